from django.urls import path

from gov21.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("office/", views.office, name="office"),
    path("my/", views.my_account, name="my"),
    path("my/data-uses", views.my_data_uses, name="my-data-uses"),
    path("sign-in", views.sign_in, name="login"),
    path("auth/callback", views.callback, name="callback"),
    path("sign-out", views.sign_out, name="logout"),
]
