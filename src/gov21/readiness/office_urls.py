from django.urls import path

from gov21.readiness import office, office_indicators

app_name = "readiness-office"
urlpatterns = [
    path("skills/", office.skills, name="skills"),
    path("skills/gaps/", office.gaps, name="gaps"),
    path("skills/rounds/", office.rounds, name="rounds"),
    path("assessments/", office.assessment_list, name="assessments"),
    path("assessments/<int:pk>/", office.assessment, name="assessment"),
    path("indicators/", office_indicators.indicators, name="indicators"),
]
