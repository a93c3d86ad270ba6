import { startInProcessSshServer } from '../support/ssh-server.ts';
import { sshExecutorSuite } from './ssh-suite.ts';

// The fallback server runs wherever sshd cannot (no root, no openssh-server); run the same cases
// against it here so it keeps working.
sshExecutorSuite('ssh executor against the in-process ssh2 server', startInProcessSshServer);
