from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet
from django.http import HttpRequest

from .models import Category, Product, ProductImage
from .renditions import product_image_renditions_request


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ProductImageInline(admin.TabularInline[ProductImage, Product]):
    model = ProductImage
    extra = 0
    fields = ["image", "alt_text", "position", "width", "height"]
    readonly_fields = ["width", "height"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin[Product]):
    list_display = ["name", "sku", "category", "price", "currency", "stock", "is_active"]
    list_filter = ["is_active", "category", "currency"]
    list_select_related = ["category"]
    search_fields = ["name", "sku", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ProductImageInline]
    show_full_result_count = False  # a COUNT(*) per page view is slow on big catalogs

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return super().get_queryset(request).select_related("category")

    def save_formset(
        self,
        request: HttpRequest,
        form: Any,
        formset: BaseInlineFormSet[Any, Any, Any],
        change: bool,
    ) -> None:
        super().save_formset(request, form, formset, change)
        # In the admin's transaction: the renditions job commits with the upload or not at all.
        for saved in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
            if isinstance(saved, ProductImage):
                product_image_renditions_request(image=saved)


@admin.register(ProductImage)
class ProductImageAdmin(admin.ModelAdmin[ProductImage]):
    list_display = ["alt_text", "product", "position", "width", "height"]
    list_select_related = ["product"]
    search_fields = ["alt_text", "product__name", "product__sku"]
    raw_id_fields = ["product"]
    readonly_fields = ["width", "height"]

    def save_model(self, request: HttpRequest, obj: ProductImage, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # In the admin's transaction: the renditions job commits with the upload or not at all.
        product_image_renditions_request(image=obj)
