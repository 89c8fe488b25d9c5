import type { Image } from "./api/client";

// The API lists each product image's renditions with their pixel widths; the browser picks one.
export function srcset(images: Image[]): string {
  return images
    .filter((image) => image.url && image.width)
    .sort((a, b) => (a.width ?? 0) - (b.width ?? 0))
    .map((image) => `${image.url} ${image.width}w`)
    .join(", ");
}

export function smallest(images: Image[]): Image | undefined {
  return [...images].filter((image) => image.url).sort((a, b) => (a.width ?? 0) - (b.width ?? 0))[0];
}
