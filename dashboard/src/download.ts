// Downloads need the bearer header, so they go through fetch and a blob (never a token in a URL).
import { apiFetch, errorText } from './api';
import { h } from './dom';
import { EXPORT_FORMATS } from './types';

function fileName(response: Response, fallback: string): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const match = /filename="?([^";]+)"?/i.exec(disposition);
  return match?.[1] ?? fallback;
}

export async function download(path: string, fallbackName: string): Promise<void> {
  const response = await apiFetch(path);
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: fileName(response, fallbackName), hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A button that downloads `path`; it shows progress and errors in place. */
export function downloadButton(
  label: string,
  path: string,
  fallbackName: string,
  description: string,
): HTMLButtonElement {
  const button = h(
    'button',
    { type: 'button', class: 'download', 'aria-label': description, title: description },
    label,
  );
  button.addEventListener('click', async () => {
    if (button.getAttribute('aria-busy') === 'true') return;
    button.setAttribute('aria-busy', 'true');
    button.classList.remove('failed');
    try {
      await download(path, fallbackName);
    } catch (error) {
      button.classList.add('failed');
      button.title = `Download failed: ${errorText(error)}`;
    } finally {
      button.removeAttribute('aria-busy');
    }
  });
  return button;
}

/** One button per trainer format (plus the manifest) for a run. */
export function runDownloads(runId: string): HTMLElement {
  const base = `/v1/runs/${encodeURIComponent(runId)}`;
  return h(
    'div',
    { class: 'downloads', role: 'group', 'aria-label': `Downloads of ${runId}` },
    EXPORT_FORMATS.map((format) =>
      downloadButton(
        format,
        `${base}/dataset?format=${format}`,
        `${runId}.${format}.jsonl`,
        `Download ${runId} as ${format} JSONL`,
      ),
    ),
    downloadButton(
      'manifest',
      `${base}/manifest`,
      `${runId}.manifest.json`,
      `Download the manifest of ${runId}`,
    ),
  );
}
