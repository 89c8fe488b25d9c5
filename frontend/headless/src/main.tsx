import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
// The server-rendered shop's stylesheet: one visual language for both storefronts.
import "../../static/css/tessera.css";
import { App } from "./App";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
