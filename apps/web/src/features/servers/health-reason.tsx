import { reasonText } from "../../lib/health-words";

/** A failure reason in plain words, with the probe's code beside it for searching and support. */
export function Reason({ code }: { code: string }) {
  const text = reasonText(code);
  return (
    <span data-reason={code}>
      {text !== code && <>{text} </>}
      <code className="text-xs">({code})</code>
    </span>
  );
}
