import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [react()],
  publicDir: false,
  build: { outDir: "dist", sourcemap: false },
  test: { include: ["tests/**/*.test.ts"], environment: "node" },
});
