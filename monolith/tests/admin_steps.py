"""What staff do in the admin during a browser journey, shared by the shop's journeys."""

from __future__ import annotations

import re

from playwright.sync_api import Browser

from .factories import PASSWORD


def staff_fulfils(browser: Browser, base_url: str, *, username: str, order_number: str) -> None:
    """Staff log in to the admin in a browser of their own and mark the order fulfilled."""
    context = browser.new_context()
    admin = context.new_page()
    admin.goto(f"{base_url}/admin/login/?next=/admin/orders/order/")
    admin.get_by_label("Username").fill(username)
    admin.get_by_label("Password").fill(PASSWORD)
    admin.get_by_role("button", name="Log in").click()
    admin.get_by_role("link", name=order_number).wait_for()
    admin.get_by_role("row", name=re.compile(order_number)).get_by_role("checkbox").check()
    admin.locator("select[name=action]").select_option("mark_orders_fulfilled")
    admin.get_by_role("button", name="Go").click()
    admin.get_by_text("Marked fulfilled: 1 order(s).").wait_for()
    context.close()
