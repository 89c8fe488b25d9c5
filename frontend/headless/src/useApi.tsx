import { useEffect, useState } from "react";
import { describeProblem } from "./api/problems";

type Answer<T> = { data?: T; error?: unknown; response: Response };

export interface Loaded<T> {
  data?: T;
  message?: string;
  loading: boolean;
}

// Runs one API call per change of `key`; a failure becomes a readable message.
export function useApi<T>(call: () => Promise<Answer<T>>, key: string): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ loading: true });
  useEffect(() => {
    let live = true;
    setState((previous) => ({ ...previous, loading: true }));
    call().then(
      ({ data, error, response }) => {
        if (!live) return;
        if (error !== undefined || !response.ok) {
          setState({ loading: false, message: describeProblem(response, error) });
        } else setState({ loading: false, data });
      },
      () => live && setState({ loading: false, message: describeProblem(undefined, undefined) }),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key]);
  return state;
}

export function Feedback({ message }: { message?: string }) {
  if (!message) return null;
  return (
    <p className="feedback feedback--error" role="alert">
      {message}
    </p>
  );
}
