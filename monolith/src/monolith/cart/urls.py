from django.urls import path

from . import views

app_name = "cart"
urlpatterns = [
    path("", views.cart_detail, name="detail"),
    path("mini/", views.mini_cart, name="mini"),
    path("add/<int:product_id>/", views.cart_add, name="add"),
    path("lines/<int:product_id>/", views.cart_update, name="update"),
    path("lines/<int:product_id>/remove/", views.cart_remove, name="remove"),
]
