import { useEffect, useRef, useState } from "react";
import { setToken, token } from "./api/client";
import { parseRoute, type Route } from "./route";
import { CartPage } from "./views/CartPage";
import { Checkout } from "./views/Checkout";
import { Catalog } from "./views/Catalog";
import { OrderPage, Orders } from "./views/Orders";
import { ProductPage } from "./views/ProductPage";
import { SignIn } from "./views/SignIn";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const follow = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener("hashchange", follow);
    return () => window.removeEventListener("hashchange", follow);
  }, []);
  return route;
}

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case "product": return <ProductPage slug={route.slug} />;
    case "cart": return <CartPage />;
    case "checkout": return <Checkout />;
    case "signin": return <SignIn next={route.next} />;
    case "orders": return <Orders />;
    case "order": return <OrderPage id={route.id} />;
    default: return <Catalog query={route.query} />;
  }
}

export function App() {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  // A new view moves focus to main, so keyboard and screen-reader users start at its content.
  useEffect(() => main.current?.focus(), [route.name]);
  const signedIn = token() !== null;
  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => { e.preventDefault(); main.current?.focus(); }}>Skip to content</a>
      <header className="site-header">
        <div className="container site-header__inner">
          <a className="brand" href="#/">
            <span className="brand__mark" aria-hidden="true"><span></span><span></span><span></span><span></span></span>
            <span className="brand__name">Tessera</span>
          </a>
          <nav className="site-nav" aria-label="Main">
            <ul role="list">
              <li><a href="#/" aria-current={route.name === "catalog" ? "page" : undefined}>Catalog</a></li>
              <li><a href="#/cart" aria-current={route.name === "cart" ? "page" : undefined}>Cart</a></li>
              <li><a href="#/orders" aria-current={route.name === "orders" ? "page" : undefined}>Orders</a></li>
              <li>
                {signedIn ? (
                  <button className="link-button" type="button" onClick={() => { setToken(null); window.location.hash = "#/"; }}>Sign out</button>
                ) : (
                  <a href="#/signin" aria-current={route.name === "signin" ? "page" : undefined}>Sign in</a>
                )}
              </li>
            </ul>
          </nav>
        </div>
      </header>
      <main id="main" className="site-main" tabIndex={-1} ref={main}>
        <div className="container">
          <Page route={route} />
        </div>
      </main>
    </>
  );
}
