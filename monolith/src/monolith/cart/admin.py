from django.contrib import admin

from .models import Cart, CartLine


class CartLineInline(admin.TabularInline[CartLine, Cart]):
    model = CartLine
    extra = 0
    raw_id_fields = ["product"]


@admin.register(Cart)
class CartAdmin(admin.ModelAdmin[Cart]):
    list_display = ["id", "user", "created_at", "updated_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__email"]
    readonly_fields = ["created_at", "updated_at"]
    raw_id_fields = ["user"]
    inlines = [CartLineInline]
