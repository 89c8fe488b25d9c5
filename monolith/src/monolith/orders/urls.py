from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("checkout/", views.checkout, name="checkout"),
    path("orders/", views.my_orders, name="mine"),
    path("orders/<uuid:public_id>/", views.order_detail, name="detail"),
    path("orders/<uuid:public_id>/status/", views.order_status, name="status"),
    path("orders/<uuid:public_id>/invoice/", views.order_invoice_status, name="invoice_status"),
    path(
        "orders/<uuid:public_id>/invoice.pdf", views.order_invoice_download, name="invoice_download"
    ),
]
