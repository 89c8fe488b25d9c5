import { describe, expect, it } from "vitest";
import { catalogHref, cursorOf, parseRoute } from "../src/route";
import { srcset, smallest } from "../src/images";

describe("parseRoute", () => {
  it("maps hashes to views", () => {
    expect(parseRoute("#/products/blue-mug")).toEqual({ name: "product", slug: "blue-mug" });
    expect(parseRoute("#/orders/0b9c")).toEqual({ name: "order", id: "0b9c" });
    expect(parseRoute("#/cart").name).toBe("cart");
    const catalog = parseRoute("#/?search=mug&sort=-price");
    expect(catalog.name === "catalog" && catalog.query.get("sort")).toBe("-price");
    expect(parseRoute("").name).toBe("catalog");
  });

  it("builds catalog links without empty parameters and keeps only the cursor of API links", () => {
    expect(catalogHref({ search: "mug", category: undefined, sort: "" })).toBe("#/?search=mug");
    expect(cursorOf("http://127.0.0.1:8000/api/v1/products?cursor=cD0x&page_size=12")).toBe("cD0x");
    expect(cursorOf(null)).toBeUndefined();
  });
});

describe("srcset", () => {
  const images = [
    { url: "/media/m-800.webp", width: 800, height: 600, alt_text: "Mug" },
    { url: "/media/m-320.webp", width: 320, height: 240, alt_text: "Mug" },
    { url: null, width: null, height: null, alt_text: "pending" },
  ];
  it("lists renditions by width and skips those not yet made", () => {
    expect(srcset(images)).toBe("/media/m-320.webp 320w, /media/m-800.webp 800w");
    expect(smallest(images)?.width).toBe(320);
  });
});
