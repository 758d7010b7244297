// App-wide state (Svelte 5 runes): current screen, library, image, view settings, jobs, notices.
import type { Job, Library, MapDataT, Res } from '../../../src-main/api/contract.ts';
import type { ColormapName } from '../../../src-main/engine/image/colormap.ts';
import type { ViewScale } from './maps.ts';
import { api } from './api.ts';

export type Screen = 'library' | 'image' | 'compare' | 'rate' | 'annotate' | 'ensemble' | 'jobs' | 'reports';
export const SCREENS: { id: Screen; label: string; key: string }[] = [
  { id: 'library', label: 'Library', key: 'l' },
  { id: 'image', label: 'Image', key: 'i' },
  { id: 'compare', label: 'Compare', key: 'c' },
  { id: 'rate', label: 'Rate', key: 'r' },
  { id: 'annotate', label: 'Annotate', key: 'a' },
  { id: 'ensemble', label: 'Ensemble', key: 'e' },
  { id: 'jobs', label: 'Jobs', key: 'j' },
  { id: 'reports', label: 'Reports', key: 'x' },
];

const stored = (k: string, d: string) => localStorage.getItem(`saliency-${k}`) ?? d;

export const app = $state({
  screen: 'library' as Screen,
  info: null as Res<'app.info'> | null,
  libraries: [] as Library[],
  libraryId: null as string | null,
  imageId: null as string | null,
  theme: stored('theme', 'dark') as 'dark' | 'light',
  help: false,
  colormap: stored('colormap', 'turbo') as ColormapName,
  opacity: Number(stored('opacity', '0.55')),
  scale: (['auto', 'normalised', 'raw'].includes(stored('scale', 'auto')) ? stored('scale', 'auto') : 'auto') as ViewScale,
  rater: stored('rater', ''),
  jobs: [] as Job[],
  /** Bumped whenever an image gains a prediction, map or rating, so views refresh. */
  revision: 0,
  notices: [] as { id: number; kind: 'error' | 'info'; text: string }[],
  /** Explanations under way, by `${imageId}|${method}|${targetClass}`: fraction, note, partial map. */
  progress: {} as Record<string, { imageId: string; method: string; targetClass: number; fraction: number; note: string | null; partial: MapDataT | null; since: number }>,
});

let noticeId = 0;
export function notify(text: string, kind: 'error' | 'info' = 'info'): void {
  const id = ++noticeId;
  app.notices.push({ id, kind, text });
  setTimeout(() => { app.notices = app.notices.filter((n) => n.id !== id); }, kind === 'error' ? 8000 : 3500);
}

/** Runs an API call, showing its error as a notice instead of throwing. */
export async function attempt<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    notify((e as Error).message, 'error');
    return undefined;
  }
}

export function persist(): void {
  localStorage.setItem('saliency-theme', app.theme);
  localStorage.setItem('saliency-colormap', app.colormap);
  localStorage.setItem('saliency-opacity', String(app.opacity));
  localStorage.setItem('saliency-scale', app.scale);
  localStorage.setItem('saliency-rater', app.rater);
}

export async function refreshInfo(): Promise<void> {
  const info = await attempt(api.call('app.info', {}));
  if (info) app.info = info;
  const libs = await attempt(api.call('library.list', {}));
  if (libs) {
    app.libraries = libs;
    if (!app.libraryId && libs.length) app.libraryId = libs[0].id;
  }
  const jobs = await attempt(api.call('jobs.list', {}));
  if (jobs) app.jobs = jobs;
}

let revisionTimer: ReturnType<typeof setTimeout> | null = null;
export function startEvents(): void {
  api.on((e) => {
    if (e.type === 'job') {
      const i = app.jobs.findIndex((j) => j.id === e.job.id);
      if (i >= 0) app.jobs[i] = e.job; else app.jobs.unshift(e.job);
      if (e.job.state === 'done' && e.job.failed) notify(`${e.job.label}: ${e.job.failed} item(s) failed (see Jobs)`, 'error');
      // A finished job may have found unreadable files (decoded only when predicted): refresh the libraries' counts.
      if (['done', 'cancelled', 'failed'].includes(e.job.state)) for (const k of Object.keys(app.progress)) if (e.job.label.includes(app.progress[k].method)) delete app.progress[k];
      if (e.job.state === 'done') void api.call('library.list', {}).then((l) => (app.libraries = l), () => undefined);
    } else if (e.type === 'library') {
      const i = app.libraries.findIndex((l) => l.id === e.library.id);
      if (i >= 0) app.libraries[i] = e.library; else app.libraries.push(e.library);
    } else if (e.type === 'progress') {
      const key = `${e.imageId}|${e.method}|${e.targetClass}`;
      const prev = app.progress[key];
      app.progress[key] = { ...e, partial: e.partial ?? prev?.partial ?? null, since: prev?.since ?? Date.now() };
    } else if (e.type === 'image' || e.type === 'changed') {
      // A stored map ends that image's progress entries.
      if (e.type === 'image') for (const k of Object.keys(app.progress)) if (k.startsWith(`${e.imageId}|`) && app.progress[k].fraction >= 1) delete app.progress[k];
      // Many events arrive during a job: refresh views at most every 400 ms.
      revisionTimer ??= setTimeout(() => { revisionTimer = null; app.revision++; }, 400);
    }
  });
}

export function openImage(id: string): void {
  app.imageId = id;
  app.screen = 'image';
}
