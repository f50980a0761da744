from django.urls import path

from gov21.identity import assertion_views, oidc_views, views

urlpatterns = [
    path("auth/sign-in", views.sign_in, name="idp-sign-in"),
    path("auth/verify", views.verify, name="idp-verify"),
    path("auth/activate", views.activate, name="idp-activate"),
    path("auth/account", views.account, name="idp-account"),
    path("auth/sign-out", views.sign_out, name="idp-sign-out"),
    path("auth/passkey/options", views.passkey_options),
    path("auth/passkey/sign-in", views.passkey_sign_in),
    path("auth/passkey/register-options", views.passkey_register_options),
    path("auth/passkey/register", views.passkey_register),
    path(".well-known/openid-configuration", oidc_views.openid_configuration, name="oidc-discovery"),
    path("oidc/jwks.json", oidc_views.jwks, name="oidc-jwks"),
    path("oidc/authorize", oidc_views.authorize, name="oidc-authorize"),
    path("oidc/token", oidc_views.token, name="oidc-token"),
    path("oidc/userinfo", oidc_views.userinfo, name="oidc-userinfo"),
    path("oidc/revoke", oidc_views.revoke, name="oidc-revoke"),
    path("oidc/introspect", oidc_views.introspect, name="oidc-introspect"),
    path("oidc/end-session", oidc_views.end_session, name="oidc-end-session"),
    path("oidc/assertion-keys.json", assertion_views.assertion_keys, name="oidc-assertion-keys"),
    path("oidc/end-session/confirm", oidc_views.end_session_confirm, name="oidc-end-session-confirm"),
]
