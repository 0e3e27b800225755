/**
 * A modal confirmation: the native <dialog> opened with showModal() (the rest of the page is inert
 * and the browser announces it as a modal), focus kept inside it with Tab and Shift+Tab, Escape or
 * a click outside cancels, focus starts on Cancel (the safe answer) and goes back where it was.
 */
import { useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface ConfirmDialogProps {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  cancelLabel?: string;
  /** The confirm button in the danger colour. */
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  testId: string;
  /** Extra attributes for tests and styles (e.g. the action or the mode). */
  data?: Record<`data-${string}`, string>;
  /** Other answers, shown between Cancel and the confirm button (e.g. the ways to stop a trader). */
  choices?: readonly DialogChoice[];
}

export interface DialogChoice {
  label: string;
  testId: string;
  onChoose: () => void;
}

const FOCUSABLE =
  'button:not([disabled]), a[href], input:not([disabled]), select, textarea, [tabindex]:not([tabindex="-1"])';

export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  cancelLabel = 'Cancel',
  danger = false,
  onConfirm,
  onCancel,
  testId,
  data,
  choices = [],
}: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  const bodyId = useId();

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!dialog.open) dialog.showModal();
    cancelRef.current?.focus();
    return () => {
      if (dialog.open) dialog.close();
      if (opener?.isConnected) opener.focus();
    };
  }, []);

  const trapTab = (e: KeyboardEvent<HTMLDialogElement>): void => {
    if (e.key !== 'Tab' || !ref.current) return;
    const items = [...ref.current.querySelectorAll<HTMLElement>(FOCUSABLE)];
    const first = items[0];
    const last = items.at(-1);
    if (!first || !last) return;
    const active = document.activeElement;
    if (e.shiftKey && (active === first || !ref.current.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !ref.current.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  };

  return (
    <dialog
      ref={ref}
      className="dash-dialog"
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      data-testid={testId}
      {...data}
      onKeyDown={trapTab}
      onCancel={(e) => {
        // Escape: the dialog closes by our state, not by itself, so React stays in charge.
        e.preventDefault();
        onCancel();
      }}
      onClose={() => {
        // Closed by the browser itself (a repeated Escape may skip the cancel event): same as Cancel.
        // A close queued by an effect's cleanup that was followed by showModal again (React's
        // development double run) arrives while the dialog is open again: not a cancel.
        if (!ref.current?.open) onCancel();
      }}
      onClick={(e) => {
        // A click on the backdrop lands on the dialog element itself.
        if (e.target === ref.current) onCancel();
      }}
    >
      <div className="dash-dialog-body">
        <h2 id={titleId} className="dash-dialog-title">
          {title}
        </h2>
        <div id={bodyId}>{children}</div>
        <div className="dash-dialog-actions">
          <button
            type="button"
            ref={cancelRef}
            className="btn"
            onClick={onCancel}
            data-testid={`${testId}-cancel`}
          >
            {cancelLabel}
          </button>
          {choices.map((c) => (
            <button key={c.testId} type="button" className="btn" onClick={c.onChoose} data-testid={c.testId}>
              {c.label}
            </button>
          ))}
          <button
            type="button"
            className={danger ? 'btn btn-danger-strong' : 'btn btn-primary'}
            onClick={onConfirm}
            data-testid={`${testId}-ok`}
          >
            {confirmLabel}
          </button>
        </div>
      </div>
    </dialog>
  );
}
