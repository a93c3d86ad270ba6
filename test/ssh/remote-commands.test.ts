import { describe, expect, it } from 'vitest';
import { remoteKill, remoteRead, remoteRemove, remoteStep, remoteWorkDir } from '../../src/executors/remote-commands.ts';
import { assembleScript, renderStepScript } from '../../src/core/script.ts';

// Golden tests: the exact bytes Hostrun sends to a remote host. There is no Windows host in
// the test suite, so for PowerShell and cmd these bytes are what is verified.

describe('remote commands', () => {
  it('linux: each step under setsid -w, its group id recorded, the directory entered', () => {
    expect(remoteStep('linux', 'bash', '/home/u/.hostrun/work/run-7-1/pid-0', "/home/u/it's here")).toEqual({
      command: 'setsid -w bash --noprofile --norc -e -o pipefail -s',
      prefix: "printf '%s' \"$$\" > '/home/u/.hostrun/work/run-7-1/pid-0'\ncd -- '/home/u/it'\\''s here'\n",
    });
    expect(remoteStep('linux', 'sh', '/p', '/w').command).toBe('setsid -w sh -e -s');
    expect(remoteKill('linux', '/p/pid-0', 2)).toBe(
      "pg=$(cat -- '/p/pid-0' 2>/dev/null) || exit 0; case \"$pg\" in ''|*[!0-9]*) exit 0;; esac; " +
        'kill -TERM "-$pg" 2>/dev/null || exit 0; i=0; ' +
        'while [ "$i" -lt 20 ]; do kill -0 "-$pg" 2>/dev/null || exit 0; sleep 0.1; i=$((i+1)); done; ' +
        'kill -KILL "-$pg" 2>/dev/null; exit 0',
    );
    expect(remoteWorkDir('linux', 7, 1)).toBe('umask 077 && d="$HOME/.hostrun/work/run-7-1" && mkdir -p -- "$d/workspace" "$d/artifacts" && cd -- "$d" && pwd');
    expect(remoteRemove('linux', '/home/u/.hostrun/work/run-7-1')).toBe("rm -rf -- '/home/u/.hostrun/work/run-7-1'");
    expect(remoteRead('linux', '/w/output-0')).toBe("cat -- '/w/output-0' 2>/dev/null || true");
  });

  it('windows PowerShell: $PID recorded, the location set, taskkill /T /F on cancel', () => {
    expect(remoteStep('windows', 'powershell', 'C:\\T\\hostrun\\run-7-1\\pid-0', "C:\\T\\hostrun\\run-7-1\\work'space")).toEqual({
      command: 'powershell -NoProfile -NonInteractive -Command -',
      prefix: "$PID | Set-Content -LiteralPath 'C:\\T\\hostrun\\run-7-1\\pid-0'\nSet-Location -LiteralPath 'C:\\T\\hostrun\\run-7-1\\work''space'\n",
    });
    expect(remoteStep('windows', 'pwsh', 'p', 'w').command).toBe('pwsh -NoProfile -NonInteractive -Command -');
    expect(remoteKill('windows', 'C:\\T\\pid-0', 5)).toBe(
      "powershell -NoProfile -NonInteractive -Command \"taskkill /T /F /PID (Get-Content -LiteralPath 'C:\\T\\pid-0')\"",
    );
    expect(remoteWorkDir('windows', 7, 1)).toBe(
      "powershell -NoProfile -NonInteractive -Command \"$d = Join-Path $env:TEMP 'hostrun\\run-7-1'; New-Item -ItemType Directory -Force -Path (Join-Path $d 'workspace'), (Join-Path $d 'artifacts') | Out-Null; (Resolve-Path -LiteralPath $d).Path\"",
    );
  });

  it('windows: the whole stdin of a PowerShell step with an injection payload as input', () => {
    const step = remoteStep('windows', 'powershell', 'C:\\T\\pid-1', 'C:\\T\\workspace');
    const script = assembleScript('powershell', renderStepScript('python install.py ${{ inputs.ip }}', 'powershell', { inputs: { ip: "1.2.3.4'; Remove-Item -Recurse C:\\; '" } }));
    expect(step.prefix + script).toBe(
      "$PID | Set-Content -LiteralPath 'C:\\T\\pid-1'\nSet-Location -LiteralPath 'C:\\T\\workspace'\n" +
        "$env:INPUT_IP = '1.2.3.4''; Remove-Item -Recurse C:\\; '''\n" +
        'python install.py ${env:INPUT_IP}\n',
    );
  });

  it('windows cmd: no pid file (closing the channel ends it), the directory entered with cd /d', () => {
    expect(remoteStep('windows', 'cmd', 'C:\\T\\pid-0', 'C:\\T\\workspace')).toEqual({ command: 'cmd /D /Q /V:ON', prefix: 'cd /d "C:\\T\\workspace"\r\n' });
  });
});
