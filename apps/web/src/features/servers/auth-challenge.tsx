import type { AuthChallenge } from "@switchboard/shared";
import type { ReactNode } from "react";

/**
 * What an OAuth-protected server asked for, and what to do about it. Switchboard does not sign in
 * on anyone's behalf: a token obtained elsewhere is stored as an upstream header.
 */
export function AuthChallengeNote({
  challenge,
  action,
}: {
  challenge: AuthChallenge | null;
  action?: ReactNode;
}) {
  const servers = challenge?.authorizationServers ?? [];
  const scopes = challenge?.scopes ?? [];
  return (
    <section
      aria-label="Sign-in required"
      className="rounded-lg border border-sky-300 bg-sky-50/80 p-3 text-sm text-sky-950 dark:border-sky-500/40 dark:bg-sky-950/40 dark:text-sky-100"
    >
      <p className="font-medium">This server is up, but it asks for OAuth sign-in.</p>
      <p className="mt-1">
        Get an access token from its authorization server and store it as an upstream header, e.g.{" "}
        <code>Authorization: Bearer &lt;token&gt;</code>; the next check then uses it.
      </p>
      <dl className="mt-2 grid gap-x-3 gap-y-1 sm:grid-cols-[auto_1fr]">
        <dt className="font-medium">Authorization servers</dt>
        <dd>
          {servers.length ? (
            <ul>
              {servers.map((s) => (
                <li key={s} className="break-all">
                  <code>{s}</code>
                </li>
              ))}
            </ul>
          ) : (
            "none named"
          )}
        </dd>
        <dt className="font-medium">Scopes</dt>
        <dd className="flex flex-wrap gap-1">
          {scopes.length
            ? scopes.map((s) => (
                <code key={s} className="rounded bg-sky-900/10 px-1.5 dark:bg-white/10">
                  {s}
                </code>
              ))
            : "none named"}
        </dd>
        {challenge?.resourceMetadataUrl && (
          <>
            <dt className="font-medium">Resource metadata</dt>
            <dd className="break-all">
              <code>{challenge.resourceMetadataUrl}</code>
            </dd>
          </>
        )}
      </dl>
      {action && <div className="mt-2">{action}</div>}
    </section>
  );
}
