/** Dark, light or the system's choice, for this window; applied at once and kept across reloads. */
import type { Theme } from '../../../shared/settings';
import { useThemeStore } from '../stores/theme';

const choices: { value: Theme; label: string; hint: string }[] = [
  { value: 'dark', label: 'Dark', hint: 'Dark background, for long sessions.' },
  { value: 'light', label: 'Light', hint: 'Light background, for bright rooms.' },
  { value: 'system', label: 'System', hint: 'Follows the operating system, and its changes.' },
];

export function ThemeChoice() {
  const theme = useThemeStore((s) => s.theme);
  const set = useThemeStore((s) => s.set);
  return (
    <fieldset className="theme-choice" data-testid="theme-choice" data-theme-choice={theme}>
      <legend className="section-title">Theme</legend>
      <div className="segmented">
        {choices.map((c) => (
          <label key={c.value} className="segment" title={c.hint}>
            <input
              type="radio"
              name="theme"
              value={c.value}
              data-testid={`theme-${c.value}`}
              checked={theme === c.value}
              onChange={() => set(c.value)}
            />
            <span>{c.label}</span>
          </label>
        ))}
      </div>
      <p className="form-hint muted">
        Kept on this computer, for this window and any other Vigil window of the same address.
      </p>
    </fieldset>
  );
}
