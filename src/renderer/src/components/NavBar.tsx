import type { PageId } from '../lib/route';
import { hrefFor } from '../lib/route';

const sections: { title: string; items: { id: PageId; label: string }[] }[] = [
  {
    title: 'Operate',
    items: [
      { id: 'dashboard', label: 'Dashboard' },
      { id: 'services', label: 'Services' },
    ],
  },
  {
    title: 'Trading',
    items: [
      { id: 'market', label: 'Market' },
      { id: 'optimizer', label: 'Optimizer' },
      { id: 'trader', label: 'Trader' },
    ],
  },
  {
    title: 'System',
    items: [
      { id: 'events', label: 'Events & Logs' },
      { id: 'settings', label: 'Settings' },
    ],
  },
];

export function NavBar({ active }: { active: PageId }) {
  return (
    <nav className="nav" aria-label="Pages">
      {sections.map((section) => (
        <div className="nav-section" key={section.title}>
          <div className="nav-title">{section.title}</div>
          {section.items.map((item) => (
            <a
              key={item.id}
              href={hrefFor(item.id)}
              className="nav-link"
              data-testid={`nav-${item.id}`}
              aria-current={item.id === active ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
        </div>
      ))}
    </nav>
  );
}
