import { useEffect, useRef, useState } from "react";
import { setToken, token } from "./api/client";
import { parseRoute, type Route } from "./route";
import { CartPage } from "./views/CartPage";
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
    case "signin": return <SignIn />;
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
        <div className="container">
          <a className="brand" href="#/">Tessera</a>
          <nav aria-label="Main">
            <a href="#/">Catalog</a> <a href="#/cart">Cart</a> <a href="#/orders">Orders</a>{" "}
            {signedIn ? (
              <button className="link-button" type="button" onClick={() => { setToken(null); window.location.hash = "#/"; }}>Sign out</button>
            ) : (
              <a href="#/signin">Sign in</a>
            )}
          </nav>
        </div>
      </header>
      <main id="main" className="container" tabIndex={-1} ref={main}>
        <Page route={route} />
      </main>
    </>
  );
}
