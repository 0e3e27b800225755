/**
 * Checklist item 17: who may talk to main. Only the top-level document of a window we created, loaded
 * from one of the app's origins. Iframes, child windows and pages that navigated elsewhere are refused.
 */
import { isAllowedOrigin } from './origins';

/** The parts of Electron's WebFrameMain the check reads. */
export interface FrameLike {
  readonly url: string;
}

/** The parts of Electron's WebContents the check reads. */
export interface SenderLike {
  readonly id: number;
  readonly mainFrame: FrameLike;
  isDestroyed(): boolean;
}

export interface SenderEventLike<S extends SenderLike = SenderLike> {
  readonly sender: S;
  /** Null once the frame has navigated away or been destroyed. */
  readonly senderFrame: FrameLike | null;
}

export interface SenderPolicy {
  /** Origins of the app's own pages (see appOrigins). */
  origins: readonly string[];
  /** True for the webContents of windows this app created. */
  isOwnWindow(contents: SenderLike): boolean;
}

/** Why a sender is refused, or null when it is trusted. */
export function senderRejection(event: SenderEventLike, policy: SenderPolicy): string | null {
  try {
    const frame = event.senderFrame;
    if (frame === null || frame === undefined) return 'the sending frame is gone';
    const contents = event.sender;
    if (contents.isDestroyed() || !policy.isOwnWindow(contents)) return 'the sender is not an app window';
    // WebFrameMain objects are cached per frame, so identity tells the main frame from a sub-frame.
    if (contents.mainFrame !== frame) return 'the sender is not the top-level frame';
    if (!isAllowedOrigin(frame.url, policy.origins)) return 'the sender is not an app page';
    return null;
  } catch {
    // A frame disposed mid-check throws on property access: treat it like a missing frame.
    return 'the sending frame is gone';
  }
}
