import { api } from "../api/client";
import { smallest } from "../images";
import { formatPrice } from "../money";
import { catalogHref, cursorOf } from "../route";
import { Feedback, useApi } from "../useApi";

const SORTS = { name: "Name", price: "Price: low to high", "-price": "Price: high to low", newest: "Newest" };
type Sort = keyof typeof SORTS;

export function Catalog({ query }: { query: URLSearchParams }) {
  const search = query.get("search") || undefined;
  const category = query.get("category") || undefined;
  const sort = (query.get("sort") as Sort | null) || undefined;
  const cursor = query.get("cursor") || undefined;
  const categories = useApi(() => api.GET("/api/v1/categories"), "categories");
  const products = useApi(
    () => api.GET("/api/v1/products", { params: { query: { search, category, sort, cursor, page_size: 12 } } }),
    query.toString(),
  );

  function submit(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    window.location.hash = catalogHref({
      search: String(form.get("search") || ""),
      category: String(form.get("category") || ""),
      sort: String(form.get("sort") || ""),
    });
  }

  const page = products.data;
  return (
    <section aria-labelledby="catalog-title">
      <div className="page-header">
        <h1 id="catalog-title">Catalog</h1>
      </div>
      <form className="filters" role="search" onSubmit={submit}>
        <div className="field">
          <label htmlFor="search">Search</label>
          <input id="search" name="search" type="search" defaultValue={search} />
        </div>
        <div className="field">
          <label htmlFor="category">Category</label>
          <select id="category" name="category" defaultValue={category ?? ""}>
            <option value="">All categories</option>
            {categories.data?.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="sort">Sort by</label>
          <select id="sort" name="sort" defaultValue={sort ?? "name"}>
            {Object.entries(SORTS).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <button className="button button--primary" type="submit">
          Apply
        </button>
      </form>
      <Feedback message={products.message ?? categories.message} />
      {products.loading && !page ? <p className="muted" aria-live="polite">Loading products…</p> : null}
      {page && page.results.length === 0 ? <p className="empty-state">No products match.</p> : null}
      {page ? (
        <ul className="product-grid" aria-busy={products.loading} data-testid="product-list">
          {page.results.map((product) => {
            const image = smallest(product.images);
            return (
              <li className="product-card" key={product.slug}>
                {image?.url ? (
                  <img src={image.url} alt={image.alt_text} width={image.width ?? undefined} height={image.height ?? undefined} loading="lazy" />
                ) : null}
                <h2>
                  <a href={`#/products/${encodeURIComponent(product.slug)}`}>{product.name}</a>
                </h2>
                <p className="price">{formatPrice(product.price, product.currency)}</p>
                {product.in_stock ? null : <p className="muted">Out of stock</p>}
              </li>
            );
          })}
        </ul>
      ) : null}
      {page ? (
        <nav className="pagination" aria-label="Pages">
          {page.previous ? (
            <a className="button button--secondary" href={catalogHref({ search, category, sort, cursor: cursorOf(page.previous) })}>
              Previous
            </a>
          ) : null}
          {page.next ? (
            <a className="button button--secondary" href={catalogHref({ search, category, sort, cursor: cursorOf(page.next) })}>
              Next
            </a>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
}
