import type {
  ImportResult,
  RegistryImportInput,
  RegistryImportResult,
  RegistrySettings,
  UpdateRegistrySettingsInput,
} from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, api } from "../../lib/api";
import { serverKeys } from "../servers/queries";

export const registryKeys = { settings: ["registry", "settings"] as const };

export const useRegistrySettings = () =>
  useQuery({
    queryKey: registryKeys.settings,
    queryFn: () => api<RegistrySettings>("/mcp/registry/settings"),
  });

/** The import and settings mutations; a real import refreshes the server lists. */
export function useRegistryMutations() {
  const client = useQueryClient();
  const settle = (result: { dryRun: boolean }) => {
    if (!result.dryRun) client.invalidateQueries({ queryKey: serverKeys.lists() });
  };
  return {
    importDocuments: useMutation({
      mutationFn: ({ body, dryRun }: { body: unknown; dryRun: boolean }) =>
        api<ImportResult>(`/mcp/servers/import${dryRun ? "?dryRun=true" : ""}`, { method: "POST", body }),
      onSuccess: settle,
    }),
    importRegistry: useMutation({
      mutationFn: ({ input, dryRun }: { input: RegistryImportInput; dryRun: boolean }) =>
        api<RegistryImportResult>(`/mcp/servers/import-from-registry${dryRun ? "?dryRun=true" : ""}`, {
          method: "POST",
          body: input,
        }),
      onSuccess: settle,
    }),
    updateSettings: useMutation({
      mutationFn: (input: UpdateRegistrySettingsInput) =>
        api<RegistrySettings>("/mcp/registry/settings", { method: "PATCH", body: input }),
      onSuccess: (settings) => client.setQueryData(registryKeys.settings, settings),
    }),
  };
}

/** Saves the organization's servers as server.json documents, through the browser's download. */
export async function downloadExport(
  path = "/mcp/servers/export",
  filename = "servers.json",
): Promise<number> {
  const res = await fetch(path, { credentials: "same-origin" });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, text ? JSON.parse(text) : {}, null);
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once the click is handled.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  const parsed = JSON.parse(text) as unknown;
  return Array.isArray(parsed) ? parsed.length : 1;
}
