import { describe, expect, it } from "vitest";
import { describeProblem, retryAfterSeconds } from "../src/api/problems";

function answer(status: number, headers: Record<string, string> = {}): Response {
  return new Response(null, { status, headers });
}

describe("describeProblem", () => {
  it("reads a problem+json 4xx with its field errors", () => {
    const body = { title: "Invalid input", status: 400, errors: [{ detail: "Ensure this value is at least 1.", pointer: "/quantity" }] };
    expect(describeProblem(answer(400), body)).toBe("Invalid input Ensure this value is at least 1.");
  });

  it("tells how long to wait on 503 with Retry-After", () => {
    const body = { title: "Service unavailable", status: 503, detail: "The database is unavailable." };
    expect(describeProblem(answer(503, { "Retry-After": "5" }), body)).toBe(
      "The database is unavailable. Please try again in 5 s.",
    );
  });

  it("never returns an empty message", () => {
    expect(describeProblem(answer(500), undefined)).toBe("The request failed (500).");
    expect(describeProblem(undefined, undefined)).toMatch(/cannot be reached/);
  });
});

describe("retryAfterSeconds", () => {
  it("accepts delta-seconds and HTTP dates", () => {
    expect(retryAfterSeconds("30")).toBe(30);
    const now = new Date("2026-01-01T00:00:00Z");
    expect(retryAfterSeconds("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10);
    expect(retryAfterSeconds("soon")).toBeNull();
    expect(retryAfterSeconds(null)).toBeNull();
  });
});
