from django.urls import path

from gov21.readiness import office

app_name = "readiness-office"
urlpatterns = [
    path("skills/", office.skills, name="skills"),
    path("skills/gaps/", office.gaps, name="gaps"),
]
