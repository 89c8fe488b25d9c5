from django.urls import path, re_path
from tessera_runtime.problems.django import api_not_found

from . import views

app_name = "api"
urlpatterns = [
    path("auth/token", views.TokenCreateView.as_view(), name="auth_token"),
    path("categories", views.CategoryListView.as_view(), name="category_list"),
    path("products", views.ProductListView.as_view(), name="product_list"),
    path("products/<slug:slug>", views.ProductDetailView.as_view(), name="product_detail"),
    path("carts", views.CartCreateView.as_view(), name="cart_create"),
    path("carts/<uuid:cart_id>", views.CartDetailView.as_view(), name="cart_detail"),
    path("carts/<uuid:cart_id>/lines", views.CartLinesView.as_view(), name="cart_lines"),
    path("carts/<uuid:cart_id>/lines/<str:sku>", views.CartLineView.as_view(), name="cart_line"),
    path("orders", views.OrderListView.as_view(), name="order_list"),
    path("orders/<uuid:order_id>", views.OrderDetailView.as_view(), name="order_detail"),
    # Last: any other path under /api/v1/, line breaks included (hence not `.*`). Django's
    # handler404 answers problem+json too, but only with DEBUG off; with it on (`make run`)
    # it would be the HTML debug page.
    re_path(r"^[\s\S]*$", api_not_found, name="unknown_path"),
]
