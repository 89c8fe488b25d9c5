// Hash routes, so the static build needs no server-side rewrite rules.
export type Route =
  | { name: "catalog"; query: URLSearchParams }
  | { name: "product"; slug: string }
  | { name: "cart" }
  | { name: "checkout" }
  | { name: "signin"; next?: string }
  | { name: "orders" }
  | { name: "order"; id: string };

export function parseRoute(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "products" && parts[1]) return { name: "product", slug: parts[1] };
  if (parts[0] === "cart") return { name: "cart" };
  if (parts[0] === "checkout") return { name: "checkout" };
  if (parts[0] === "signin") {
    // Only a route of this app, never a URL: `next` must not become an open redirect.
    const next = new URLSearchParams(search).get("next");
    return next && /^[a-z/0-9-]+$/.test(next) ? { name: "signin", next } : { name: "signin" };
  }
  if (parts[0] === "orders" && parts[1]) return { name: "order", id: parts[1] };
  if (parts[0] === "orders") return { name: "orders" };
  return { name: "catalog", query: new URLSearchParams(search) };
}

export function catalogHref(query: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) params.set(key, value);
  const text = params.toString();
  return text ? `#/?${text}` : "#/";
}

// The API's `next`/`previous` are full URLs; the app keeps only their cursor.
export function cursorOf(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  return new URL(link).searchParams.get("cursor") ?? undefined;
}
