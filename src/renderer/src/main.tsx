import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { ConnectionContext } from './connection-context';
import { startSync } from './stores/sync';
import { openConnection } from './transport/connection';
import './styles/theme.css';
import './styles/app.css';

const connection = openConnection();
startSync(connection);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <ConnectionContext.Provider value={connection}>
      <App />
    </ConnectionContext.Provider>
  </StrictMode>,
);
