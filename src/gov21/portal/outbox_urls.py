from django.urls import path

from gov21.portal import outbox

app_name = "outbox"
urlpatterns = [
    path("<slug:name>/", outbox.dead_letters, name="dead-letters"),
    path("<slug:name>/<int:row_id>/retry", outbox.retry, name="retry"),
]
