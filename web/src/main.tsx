import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router';
import { ApiError, onReachabilityChange } from './api/client.ts';
import { AppRoutes } from './app/routes.tsx';
import { initTheme } from './app/theme.ts';
import { ToastProvider } from './components/toast.tsx';
import './styles.css';

initTheme();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      // A 4xx will not get better by asking again; an unreachable server might.
      retry: (count, err) => (err instanceof ApiError && err.status >= 400 && err.status < 500 ? false : count < 2),
      refetchOnWindowFocus: true,
    },
  },
});

// When the API answers again after an outage, everything on screen is refetched.
onReachabilityChange((reachable) => {
  if (reachable) void queryClient.invalidateQueries();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <BrowserRouter>
          <AppRoutes />
        </BrowserRouter>
      </ToastProvider>
    </QueryClientProvider>
  </StrictMode>,
);
