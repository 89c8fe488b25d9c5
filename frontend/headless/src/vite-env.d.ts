/// <reference types="vite/client" />
interface ImportMetaEnv {
  readonly VITE_API_ORIGIN?: string;
}
