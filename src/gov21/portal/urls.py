from django.contrib.auth import views as auth_views
from django.urls import path

from gov21.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("office/", views.office, name="office"),
    path("sign-in", auth_views.LoginView.as_view(template_name="portal/login.html"), name="login"),
    path("sign-out", auth_views.LogoutView.as_view(next_page="portal:home"), name="logout"),
]
