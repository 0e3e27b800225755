/**
 * A modal dialog on the platform's <dialog>: it traps focus, closes on Escape, and gives focus back
 * to what had it when it closes.
 */
import { useEffect, useRef } from 'react';
import type { ReactNode, RefObject } from 'react';
import '../../styles/service.css';

export function Modal({
  labelledBy,
  describedBy,
  testId,
  onClose,
  initialFocus,
  role,
  children,
}: {
  labelledBy: string;
  describedBy?: string;
  testId: string;
  onClose: () => void;
  /** What gets focus when it opens (by default the first control). */
  initialFocus?: RefObject<HTMLElement | null>;
  role?: 'alertdialog';
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    initialFocus?.current?.focus();
  }, [initialFocus]);
  return (
    <dialog
      ref={ref}
      className="svc-modal"
      role={role}
      aria-labelledby={labelledBy}
      aria-describedby={describedBy}
      data-testid={testId}
      onClose={onClose}
    >
      {children}
    </dialog>
  );
}
