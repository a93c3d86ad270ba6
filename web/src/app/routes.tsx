import { Navigate, Route, Routes, useLocation } from 'react-router';
import { AuditPage } from '../pages/audit.tsx';
import { DashboardPage } from '../pages/dashboard.tsx';
import { JobPage } from '../pages/job.tsx';
import { JobsPage } from '../pages/jobs.tsx';
import { HostsPage } from '../pages/hosts.tsx';
import { MembersPage } from '../pages/members.tsx';
import { NewJobPage } from '../pages/new-job.tsx';
import { NotFoundPage } from '../pages/not-found.tsx';
import { RunPage } from '../pages/run.tsx';
import { RunsPage } from '../pages/runs.tsx';
import { SecretsPage } from '../pages/secrets.tsx';
import { SetupPage } from '../pages/setup.tsx';
import { SignInPage } from '../pages/sign-in.tsx';
import { WorkersPage } from '../pages/workers.tsx';
import { ErrorPanel, Spinner } from '../components/ui.tsx';
import { Layout, Logo, UnreachableBanner } from './layout.tsx';
import { LiveProvider } from './live.tsx';
import { SessionProvider } from './session.tsx';

export function AppRoutes() {
  const location = useLocation();
  return (
    <Routes>
      <Route path="/setup" element={<SetupPage />} />
      <Route
        path="*"
        element={
          <SessionProvider>
            {(s) => {
              switch (s.state) {
                case 'loading':
                  return (
                    <Centered>
                      <Spinner />
                    </Centered>
                  );
                case 'error':
                  return (
                    <Centered>
                      <UnreachableBanner />
                      <ErrorPanel error={s.error} retry={() => window.location.reload()} />
                    </Centered>
                  );
                case 'signed-out':
                  return <SignInPage next={location.pathname + location.search} />;
                case 'no-project':
                  return (
                    <Centered>
                      <p className="text-sm">
                        You are signed in as {s.me.user?.email}, but you are not a member of any project yet. Ask a project admin to add you.
                      </p>
                    </Centered>
                  );
                case 'ready':
                  return (
                    <LiveProvider project={s.session.project.slug}>
                      <Routes>
                        <Route element={<Layout />}>
                          <Route index element={<DashboardPage />} />
                          <Route path="jobs" element={<JobsPage />} />
                          <Route path="jobs/new" element={<NewJobPage />} />
                          <Route path="jobs/:name" element={<JobPage />} />
                          <Route path="runs" element={<RunsPage />} />
                          <Route path="runs/:id" element={<RunPage />} />
                          <Route path="hosts" element={<HostsPage />} />
                          <Route path="secrets" element={<SecretsPage />} />
                          <Route path="workers" element={<WorkersPage />} />
                          <Route path="members" element={<MembersPage />} />
                          <Route path="audit" element={<AuditPage />} />
                          <Route path="signin" element={<Navigate to="/" replace />} />
                          <Route path="*" element={<NotFoundPage />} />
                        </Route>
                      </Routes>
                    </LiveProvider>
                  );
              }
            }}
          </SessionProvider>
        }
      />
    </Routes>
  );
}

export function Centered({ children }: { children: React.ReactNode }) {
  return (
    <div className="grid min-h-screen place-items-center px-4">
      <div className="w-full max-w-sm space-y-6">
        <div className="flex justify-center">
          <Logo />
        </div>
        {children}
      </div>
    </div>
  );
}
