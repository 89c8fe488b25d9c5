// The one way this app talks to the monolith: openapi-fetch typed by the generated schema.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Product = Schemas["CatalogProduct"];
export type ProductDetail = Schemas["CatalogProductDetail"];
export type Cart = Schemas["Cart"];
export type Order = Schemas["OrderDetail"];
export type OrderSummary = Schemas["OrderSummary"];
export type Image = Schemas["CatalogImage"];

// The API is on another origin (CORS allow-list on the monolith); set at build time.
export const API_ORIGIN: string = import.meta.env.VITE_API_ORIGIN ?? "http://127.0.0.1:8000";

const TOKEN_KEY = "tessera.token";

export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

// The API's tokenAuth scheme: `Authorization: Token <key>`. A header, not a cookie, so no
// credentials cross origins and cookie CSRF does not apply.
const auth: Middleware = {
  onRequest({ request }) {
    const key = token();
    if (key) request.headers.set("Authorization", `Token ${key}`);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: API_ORIGIN });
api.use(auth);
