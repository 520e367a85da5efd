//! `nayose serve` and `nayose token create`: arguments and start-up around
//! [`nayose::server`].

use anyhow::{bail, Context, Result};
use nayose::matching::model::Model;
use nayose::server::{auth, AppState, Limits};
use nayose::service::import::{ImportFormat, ImportRequest};
use nayose::service::{Actor, Service};
use nayose::store::sqlite::SqliteStore;
use nayose::store::{Role, Store, StoreExt};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// The demo's customer files, imported in this order with these sources:
/// companies (`nayose gen --kind btob --records 3000 --seed 1`) and
/// consumers as a CRM holds them (`nayose gen --kind btoc --profile crm
/// --records 2000 --seed 1`, the ids' `R` made `P`), whose review queue has
/// the cases a steward decides: a name shared after a move, a marriage.
const DEMO_FILES: [(&str, &str, &[u8]); 2] = [
    (
        "demo",
        "fixtures/sample/demo.csv (3,000 business records)",
        include_bytes!("../../fixtures/sample/demo.csv"),
    ),
    (
        "demo-consumers",
        "fixtures/sample/demo_consumers.csv (2,000 consumer records)",
        include_bytes!("../../fixtures/sample/demo_consumers.csv"),
    ),
];

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where the database and the index live.
    #[arg(long, default_value = "nayose-data")]
    data: PathBuf,
    /// Rule file (default: the built-in Japanese rules).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Use this model (from `nayose dedupe --save-model`) instead of
    /// training one from the stored records.
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: String,
    /// Start with the bundled sample imported and deduplicated (when the
    /// store is empty), and print an admin token.
    #[arg(long)]
    demo: bool,
    /// Largest JSON body, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Largest import file, in bytes.
    #[arg(long, default_value_t = 512 << 20)]
    max_import_bytes: usize,
    /// Seconds a connection may take to send a request's headers (also how
    /// long an idle connection is kept).
    #[arg(long, default_value_t = 10.0)]
    header_timeout: f64,
    /// Seconds a request's body may pause between two pieces.
    #[arg(long, default_value_t = 30.0)]
    body_timeout: f64,
    /// Connections served at once; more wait to be accepted.
    #[arg(long, default_value_t = 1024)]
    max_connections: usize,
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
enum TokenCommand {
    /// Create an API token and print it (only its hash is kept).
    Create {
        /// viewer, ingest, steward or admin
        #[arg(long)]
        role: String,
        /// Who or what holds it (shown in the audit log).
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "nayose-data")]
        data: PathBuf,
    },
}

fn open_store(data: &std::path::Path) -> Result<Arc<SqliteStore>> {
    Ok(Arc::new(SqliteStore::open(data).with_context(|| {
        format!("cannot open the store in {}", data.display())
    })?))
}

pub fn token(args: TokenArgs) -> Result<ExitCode> {
    match args.command {
        TokenCommand::Create { role, name, data } => {
            let Some(role) = Role::parse(&role) else {
                bail!("--role `{role}`: viewer, ingest, steward or admin");
            };
            let new = !data.join(nayose::store::sqlite::FILE).exists();
            let store = open_store(&data)?;
            let name = name.unwrap_or_else(|| role.as_str().to_string());
            let token = auth::create_token(&*store, "cli", &name, role)?;
            println!("{token}");
            if new {
                // The first token of a new store, or a mistyped --data.
                eprintln!(
                    "note: {} held no store; a new one was made there. The token works \
                     for `nayose serve --data {}`.",
                    data.display(),
                    data.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn run(args: Args) -> Result<ExitCode> {
    {
        use std::io::IsTerminal;
        use tracing_subscriber::prelude::*;
        // Our request log at info; the libraries' chatter (tantivy's
        // commits) only when it is a warning.
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_target(false),
            )
            .with(
                tracing_subscriber::filter::Targets::new()
                    .with_target("nayose", tracing::Level::INFO)
                    .with_default(tracing::Level::WARN),
            )
            .init();
    }
    let rules = super::load_rules(args.rules.as_deref())?;
    let model = match &args.model {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the model {}", p.display()))?;
            Some(
                Model::from_toml(&text)
                    .with_context(|| format!("{}: not a model file", p.display()))?,
            )
        }
        None => None,
    };
    let store = open_store(&args.data)?;
    let dyn_store: Arc<dyn Store> = store.clone();
    eprintln!("opening {} …", args.data.display());
    let service = Arc::new(
        Service::open(dyn_store.clone(), &args.data, rules, model)
            .context("cannot start the service")?,
    );
    for job in service
        .resume_jobs()
        .context("cannot resume the interrupted imports")?
    {
        eprintln!("job {job}: interrupted by the last stop; finishing it");
    }
    let startup = service.startup();
    match startup.opened {
        nayose::index::live::Opened::Fresh => {
            eprintln!("index: built from the store ({} records)", startup.replayed)
        }
        nayose::index::live::Opened::Existing { .. } => eprintln!(
            "index: caught up with the store ({} changes replayed)",
            startup.replayed
        ),
    }
    let bootstrap = std::env::var("NAYOSE_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    if args.demo {
        let records = store.read(|tx| tx.count_records())?;
        if records == 0 {
            for (source, what, bytes) in DEMO_FILES {
                import_demo_file(&service, source, what, bytes)?;
            }
        }
        if bootstrap.is_none() {
            let t = auth::create_token(&*store, "demo", "demo-admin", Role::Admin)?;
            println!("demo admin token: {t}");
        }
    }
    let seconds = |name: &str, s: f64| {
        if s.is_finite() && s > 0.0 {
            Ok(std::time::Duration::from_secs_f64(s))
        } else {
            bail!("--{name} {s}: a number of seconds above 0")
        }
    };
    let state = AppState::new(
        service,
        Arc::new(auth::Tokens::new(dyn_store, bootstrap)),
        Limits {
            json_bytes: args.max_body_bytes,
            import_bytes: args.max_import_bytes,
            header_timeout: seconds("header-timeout", args.header_timeout)?,
            body_timeout: seconds("body-timeout", args.body_timeout)?,
            connections: args.max_connections.max(1),
            ..Limits::default()
        },
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let addr = listener.local_addr()?;
        println!("listening on http://{addr}");
        nayose::server::serve(state, listener).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Import one of the demo's files as a job with this source, and wait for
/// it to end; a failed import stops the start-up.
fn import_demo_file(service: &Arc<Service>, source: &str, what: &str, bytes: &[u8]) -> Result<()> {
    eprintln!("demo: importing {what} …");
    let job = service.start_import(
        &Actor::system(),
        ImportRequest {
            bytes: bytes.to_vec(),
            format: ImportFormat::Table(nayose::import::Format::Csv),
            source: Some(source.into()),
        },
        None,
    )?;
    let nayose::service::Reply::Fresh(job) = job else {
        unreachable!("no idempotency key, no replay")
    };
    loop {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let j = service.job(&job.id)?;
        if j.status != nayose::store::JobStatus::Running {
            if let Some(e) = j.error {
                bail!("demo import failed: {e}");
            }
            eprintln!("demo: {}", serde_json::to_string(&j.result)?);
            return Ok(());
        }
    }
}
