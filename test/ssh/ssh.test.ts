import { startSshd } from '../support/sshd.ts';
import { sshExecutorSuite } from './ssh-suite.ts';

sshExecutorSuite('ssh executor against OpenSSH sshd (or the fallback where sshd cannot run)', startSshd);
