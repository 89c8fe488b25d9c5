from django.urls import path

from . import views

app_name = "inbox"
urlpatterns = [
    # The functions' routes (webhooks/payments, webhooks/carrier), when they run inline.
    path("webhooks/<slug:source>", views.webhook_receive, name="webhook_receive"),
]
