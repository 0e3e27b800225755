import type { ReactNode } from 'react';
import type { PageId } from '../lib/route';

/** The frame of every page: a title line, then the content. */
export function Page({
  id,
  title,
  aside,
  children,
}: {
  id: PageId;
  title: string;
  aside?: ReactNode;
  children: ReactNode;
}) {
  return (
    <section className="page" data-testid={`page-${id}`}>
      <header className="page-head">
        <h1>{title}</h1>
        {aside && <div className="page-aside">{aside}</div>}
      </header>
      {children}
    </section>
  );
}

/** A page whose data does not exist yet: one plain sentence, no invented figures. */
export function NotYetPage({ id, title, children }: { id: PageId; title: string; children: ReactNode }) {
  return (
    <Page id={id} title={title}>
      <p className="empty" data-testid="not-yet">
        {children}
      </p>
    </Page>
  );
}
