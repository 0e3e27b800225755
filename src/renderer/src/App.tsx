import { AlertToasts } from './components/AlertToasts';
import { AuthFailedScreen } from './components/AuthFailedScreen';
import { ConnectionBanner } from './components/ConnectionBanner';
import { Header } from './components/Header';
import { SimulatedBanner } from './components/SimulatedBanner';
import { NavBar } from './components/NavBar';
import type { Route } from './lib/route';
import { useRoute } from './lib/route';
import { DashboardPage } from './pages/DashboardPage';
import { EventsPage } from './pages/EventsPage';
import { MarketPage } from './pages/MarketPage';
import { OptimizerPage } from './pages/OptimizerPage';
import { ServicesPage } from './pages/ServicesPage';
import { SettingsPage } from './pages/SettingsPage';
import { TraderPage } from './pages/TraderPage';
import { useConnectionStore } from './stores/connection';
// Applies the saved colour theme at start-up, before the first render.
import './stores/theme';

export function App() {
  const route = useRoute();
  const authFailed = useConnectionStore((s) => s.status.state === 'auth-failed');
  return (
    <div className="frame">
      <Header />
      <NavBar active={route.page} />
      <main className="content">
        {authFailed ? (
          <AuthFailedScreen />
        ) : (
          <>
            <ConnectionBanner />
            <SimulatedBanner />
            <PageView route={route} />
          </>
        )}
      </main>
      {!authFailed && <AlertToasts />}
    </div>
  );
}

function PageView({ route }: { route: Route }) {
  switch (route.page) {
    case 'dashboard':
      return <DashboardPage />;
    case 'services':
      return <ServicesPage selected={route.param} />;
    case 'market':
      return <MarketPage />;
    case 'optimizer':
      return <OptimizerPage param={route.param} />;
    case 'trader':
      return <TraderPage param={route.param} />;
    case 'events':
      return <EventsPage param={route.param} />;
    case 'settings':
      return <SettingsPage />;
  }
}
