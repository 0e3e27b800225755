/**
 * The colour theme of this window: dark, light, or whatever the system prefers. A per-window choice,
 * kept in localStorage (so it applies before the connection is up) and put into effect on <html> as
 * `data-theme` (the choice) and `data-palette` (light or dark, `system` resolved here and kept in step
 * with the OS), which theme.css maps to its colours.
 */
import { create } from 'zustand';
import type { Theme } from '../../../shared/settings';
import { themes } from '../../../shared/settings';

const STORAGE_KEY = 'vigil.theme';
const DEFAULT_THEME: Theme = 'dark';

interface ThemeStore {
  theme: Theme;
  set(theme: Theme): void;
}

function isTheme(value: unknown): value is Theme {
  return typeof value === 'string' && (themes as readonly string[]).includes(value);
}

function readStored(): Theme {
  try {
    const value = window.localStorage.getItem(STORAGE_KEY);
    return isTheme(value) ? value : DEFAULT_THEME;
  } catch {
    return DEFAULT_THEME; // storage disabled: the default, for this page only
  }
}

const prefersLight = window.matchMedia('(prefers-color-scheme: light)');

function apply(theme: Theme): void {
  const root = document.documentElement;
  root.dataset.theme = theme;
  root.dataset.palette = theme === 'system' ? (prefersLight.matches ? 'light' : 'dark') : theme;
}

// The OS switched between light and dark: a window that follows it follows now.
prefersLight.addEventListener('change', () => apply(useThemeStore.getState().theme));

export const useThemeStore = create<ThemeStore>()((set) => ({
  theme: readStored(),
  set: (theme) => {
    try {
      window.localStorage.setItem(STORAGE_KEY, theme);
    } catch {
      // Not kept across reloads, but still applied now.
    }
    apply(theme);
    set({ theme });
  },
}));

// At import, before the first render: no flash of the wrong theme.
apply(useThemeStore.getState().theme);

// Another window of the same origin changed it: follow.
window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE_KEY) return;
  const theme = isTheme(event.newValue) ? event.newValue : DEFAULT_THEME;
  apply(theme);
  useThemeStore.setState({ theme });
});
