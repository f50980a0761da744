from django.urls import path

from gov21.onestop import definitions_office

app_name = "service-definitions"
urlpatterns = [
    path("", definitions_office.definition_list, name="list"),
    path("<slug:code>", definitions_office.definition_edit, name="edit"),
]
