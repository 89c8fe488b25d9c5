from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from monolith.accounts.models import User
from monolith.core.errors import DomainError

from . import sales_report_admin  # noqa: F401 - registers the sales reports' admin
from .models import Order, OrderLine, OrderTransition, Payment
from .services import order_cancel, order_mark_fulfilled

LINE_FIELDS = ("sku", "name", "unit_price", "quantity", "line_total")
TIMELINE_FIELDS = ("created_at", "from_status", "to_status", "cause", "actor")
PAYMENT_FIELDS = ("reference", "provider", "amount", "currency", "status", "created_at")
# What checkout froze: staff may read it but must not rewrite history.
FROZEN_ORDER_FIELDS: list[str] = [
    "number",
    "public_id",
    "user",
    "email",
    "status",
    "tracking_number",
    "currency",
    "subtotal",
    "shipping",
    "tax",
    "total",
    "shipping_name",
    "shipping_line1",
    "shipping_line2",
    "shipping_postal_code",
    "shipping_city",
    "shipping_country",
    "created_at",
    "updated_at",
]


class OrderLineInline(admin.TabularInline[OrderLine, Order]):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = readonly_fields = LINE_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderTransitionInline(admin.TabularInline[OrderTransition, Order]):
    model = OrderTransition
    extra = 0
    can_delete = False
    verbose_name_plural = "timeline"
    fields = readonly_fields = TIMELINE_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class PaymentInline(admin.StackedInline[Payment, Order]):
    model = Payment
    extra = 0
    can_delete = False
    fields = readonly_fields = PAYMENT_FIELDS

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


def staff_member(request: HttpRequest) -> User:
    """The signed-in staff user behind an admin request (the admin lets no one else in)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def _apply_to_each(
    request: HttpRequest,
    queryset: QuerySet[Order],
    action: str,
    apply: Callable[[Order], object],
) -> None:
    """Run a state-machine service on each order, reporting refusals instead of failing all."""
    done, refused = 0, []
    for order in queryset:
        try:
            apply(order)
        except DomainError as error:
            refused.append(f"{order.number}: {error}")
        else:
            done += 1
    if done:
        messages.success(request, f"{action}: {done} order(s).")
    for reason in refused:
        messages.error(request, reason)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin[Order]):
    list_display = ["number", "status", "email", "total", "currency", "created_at"]
    list_filter = ["status", "created_at", "shipping_country"]
    search_fields = ["number", "email", "payment__reference", "shipping_name", "tracking_number"]
    date_hierarchy = "created_at"
    readonly_fields = FROZEN_ORDER_FIELDS
    inlines = [OrderLineInline, PaymentInline, OrderTransitionInline]
    actions = ["cancel_orders", "mark_orders_fulfilled"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed through checkout, never typed in

    @admin.action(description="Cancel selected orders (unpaid only; stock is released)")
    def cancel_orders(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _apply_to_each(
            request,
            queryset,
            "Cancelled",
            lambda order: order_cancel(
                order=order, cause="cancelled by staff", actor=staff_member(request)
            ),
        )

    @admin.action(description="Mark selected orders fulfilled")
    def mark_orders_fulfilled(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        _apply_to_each(
            request,
            queryset,
            "Marked fulfilled",
            lambda order: order_mark_fulfilled(order=order, actor=staff_member(request)),
        )


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin[Payment]):
    list_display = ["reference", "order", "status", "amount", "currency", "created_at"]
    list_filter = ["status", "provider"]
    list_select_related = ["order"]
    search_fields = ["reference", "order__number"]
    readonly_fields = [
        "order",
        "reference",
        "provider",
        "amount",
        "currency",
        "status",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OrderTransition)
class OrderTransitionAdmin(admin.ModelAdmin[OrderTransition]):
    list_display = ["order", "from_status", "to_status", "cause", "actor", "created_at"]
    list_filter = ["to_status"]
    list_select_related = ["order", "actor"]
    search_fields = ["order__number", "cause"]
    readonly_fields = ["order", "from_status", "to_status", "cause", "actor", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: OrderTransition | None = None
    ) -> bool:
        return False
