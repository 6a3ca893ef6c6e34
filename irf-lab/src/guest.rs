//! **Stand-in for SSM Run Command** (the emulator's SSM runs nothing): each command boots a
//! guest with a real Linux kernel (`scripts/guest-run`, the kit of `scripts/guest-kit`) that
//! runs the document's rendered script under bash with the parameters as the agent passes them
//! (`SSM_<Name>` variables). The guest has no route out but QEMU's user networking to one host
//! port (`--guestfwd`), where an [`EgressProxy`](crate::egress::EgressProxy) admits the
//! emulator's address alone: the guest reaches the presigned URLs through `http_proxy`, which
//! `irf-memdump` and the capture document's `wget` honour.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use irf_core::blueprints;
use irf_runtime::error::{HandlerError, Result};
use irf_runtime::memory::{AgentStatus, CommandRunner, CommandStatus};
use serde_json::json;

/// The guest's address of the host's forwarded port (QEMU user networking).
const HOST_IN_GUEST: &str = "10.0.2.100";

/// SSM Run Command played by guest boots (see the module doc).
#[derive(Debug)]
pub struct GuestSsm {
    /// `scripts/guest-run`.
    pub guest_run: PathBuf,
    /// The kit directory (`scripts/guest-kit amd64`).
    pub kit: PathBuf,
    /// Where each command's job and output go (`<work>/<command id>/{job,out}`).
    pub work: PathBuf,
    /// The egress proxy's port on the host.
    pub proxy_port: u16,
    /// Guest RAM in MiB.
    pub memory_mib: u64,
    /// Name of a process the guest starts before the document (its `comm`), for finding it in
    /// the memory image; its PID is in `<work>/<command id>/out/marker`.
    pub marker: String,
    commands: Mutex<BTreeMap<String, Arc<Mutex<Option<CommandStatus>>>>>,
    sent: Mutex<Vec<String>>,
}

impl GuestSsm {
    /// A runner booting `kit` with `memory_mib` of RAM, the guest's only egress `proxy_port`.
    pub fn new(
        guest_run: PathBuf,
        kit: PathBuf,
        work: PathBuf,
        proxy_port: u16,
        memory_mib: u64,
        marker: &str,
    ) -> Self {
        GuestSsm {
            guest_run,
            kit,
            work,
            proxy_port,
            memory_mib,
            marker: marker.to_owned(),
            commands: Mutex::default(),
            sent: Mutex::default(),
        }
    }

    /// The documents sent, in order.
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().expect("not poisoned").clone()
    }

    /// The output directory of a command.
    pub fn out(&self, command_id: &str) -> PathBuf {
        self.work.join(command_id).join("out")
    }

    /// The PID of the marker process in the guest that ran `command_id`.
    pub fn marker_pid(&self, command_id: &str) -> Option<u64> {
        std::fs::read_to_string(self.out(command_id).join("marker"))
            .ok()?
            .trim()
            .strip_prefix("marker_pid=")?
            .parse()
            .ok()
    }

    /// Writes the job a command's guest runs: the marker process, then the document's script
    /// with the parameters as `SSM_<Name>` variables and the egress proxy in `http_proxy`.
    fn job(
        &self,
        id: &str,
        script: String,
        parameters: &BTreeMap<String, String>,
    ) -> std::io::Result<PathBuf> {
        let job = self.work.join(id).join("job");
        std::fs::create_dir_all(&job)?;
        std::fs::write(job.join("document.sh"), script)?;
        let mut env = String::new();
        for (name, value) in parameters {
            if value.contains('\'') {
                return Err(std::io::Error::other(format!(
                    "parameter {name} holds a quote, which the job's shell quoting cannot carry"
                )));
            }
            env.push_str(&format!("export SSM_{name}='{value}'\n"));
        }
        let marker = &self.marker;
        std::fs::write(
            job.join("job.sh"),
            format!(
                "set -eu\ncp /bin/bash /tmp/{marker}\n/tmp/{marker} -c 'while :; do sleep 1; done' &\n\
                 echo \"marker_pid=$!\" > \"$IRF_OUT/marker\"\n{env}\
                 export http_proxy=http://{HOST_IN_GUEST}:{port} HTTP_PROXY=http://{HOST_IN_GUEST}:{port}\n\
                 bash /job/document.sh\n",
                port = self.proxy_port
            ),
        )?;
        Ok(job)
    }
}

impl CommandRunner for GuestSsm {
    async fn agent(&self, _instance: &str) -> Result<AgentStatus> {
        Ok(AgentStatus::Online)
    }

    async fn send(
        &self,
        document: &str,
        _instance: &str,
        parameters: BTreeMap<String, String>,
        comment: &str,
    ) -> Result<String> {
        let id = comment.replace(' ', "-");
        if self
            .commands
            .lock()
            .expect("not poisoned")
            .contains_key(&id)
        {
            return Ok(id);
        }
        let script = if document.ends_with(irf_core::contract::documents::MEMORY_PREFLIGHT) {
            blueprints::MEMORY_PREFLIGHT.render(&json!({}))
        } else if document.ends_with(irf_core::contract::documents::MEMORY_CAPTURE) {
            blueprints::MEMORY_CAPTURE.render(&json!({
                "tool_name": irf_synth::stacks::STREAMER_NAME,
                "lime_port": irf_synth::stacks::LIME_PORT,
            }))
        } else {
            return Err(HandlerError::fatal(format!(
                "the guest runner knows the memory documents only, not {document}"
            )));
        }
        .map_err(HandlerError::fatal)?;
        let job = self
            .job(&id, script, &parameters)
            .map_err(HandlerError::fatal)?;
        let out = self.out(&id);
        let result = Arc::new(Mutex::new(None));
        self.commands
            .lock()
            .expect("not poisoned")
            .insert(id.clone(), result.clone());
        self.sent
            .lock()
            .expect("not poisoned")
            .push(document.to_owned());
        let mut command = std::process::Command::new(&self.guest_run);
        command
            .arg("--kit")
            .arg(&self.kit)
            .args(["--append", "no5lvl", "--memory"])
            .arg(self.memory_mib.to_string())
            .args(["--guestfwd", &self.proxy_port.to_string()])
            .args(["--timeout", "900", "--out-size", "64"])
            .arg(&job)
            .arg(&out);
        std::thread::spawn(move || {
            let status = command.status();
            let read = |name: &str| std::fs::read_to_string(out.join(name)).unwrap_or_default();
            let done = match status {
                Ok(s) if s.success() => CommandStatus::Succeeded(read("stdout")),
                Ok(s) => CommandStatus::Failed {
                    status: "Failed".into(),
                    code: s.code().unwrap_or(-1),
                    stderr: format!("{}\n{}", read("stderr"), read("console.log")),
                },
                Err(e) => CommandStatus::Failed {
                    status: "Failed".into(),
                    code: -1,
                    stderr: format!("scripts/guest-run did not start: {e}"),
                },
            };
            *result.lock().expect("not poisoned") = Some(done);
        });
        Ok(id)
    }

    async fn status(&self, command_id: &str, _instance: &str) -> Result<CommandStatus> {
        let commands = self.commands.lock().expect("not poisoned");
        let result = commands.get(command_id).ok_or_else(|| {
            HandlerError::fatal(format!("no command {command_id} was sent to the guest"))
        })?;
        Ok(result
            .lock()
            .expect("not poisoned")
            .clone()
            .unwrap_or_else(|| CommandStatus::Running("InProgress".into())))
    }
}
