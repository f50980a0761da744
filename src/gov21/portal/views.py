from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_required
def office(request: HttpRequest) -> HttpResponse:
    return redirect("registry:queue")
