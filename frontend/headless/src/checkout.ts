import { api, type Schemas } from "./api/client";
import { describeProblem } from "./api/problems";
import { cartId, ApiError } from "./cart";

export type ShippingAddress = Schemas["ShippingAddressInputRequest"];

// The payment page sends the shopper back here; the API puts the new order's id in place of
// the placeholder, since the app cannot know it before the order exists.
export function orderReturnUrl(location: Pick<Location, "origin" | "pathname">): string {
  return `${location.origin}${location.pathname}#/orders/{order_id}`;
}

// Checks out the app's cart and answers the payment page's URL, or throws a readable error.
export async function placeOrder(shipping: ShippingAddress, email?: string): Promise<string> {
  const cart = cartId();
  if (!cart) throw new ApiError("Your cart is empty: add a product before checking out.");
  const { data, error, response } = await api.POST("/api/v1/orders", {
    body: {
      cart_id: cart,
      shipping_address: shipping,
      return_url: orderReturnUrl(window.location),
      ...(email ? { email } : {}),
    },
  });
  if (!data) throw new ApiError(describeProblem(response, error));
  return data.payment_url;
}
