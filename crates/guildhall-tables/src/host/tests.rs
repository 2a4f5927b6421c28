//! The host's sweep and its worker processes, with the bus in memory.

use super::*;

/// A host on an in-memory bus, and what stops it.
struct Running {
    host: Arc<Host>,
    bus: SharedBus,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

async fn start(workers: Workers) -> Running {
    let bus = guildhall_bus::connect("memory://", "").await.unwrap();
    let (shutdown, tasks) = (CancellationToken::new(), TaskTracker::new());
    let host = Host::start(
        bus.clone(),
        "sweep-test-internal-token",
        Duration::from_secs(600),
        workers,
        shutdown.clone(),
        &tasks,
    )
    .await
    .unwrap();
    Running {
        host,
        bus,
        shutdown,
        tasks,
    }
}

impl Running {
    /// Puts `game_id` in the host's books as placed at `since` (no worker is started:
    /// the sweep's decisions are what is watched).
    fn hold(&self, game_id: &str, placement: Placement, since: Instant) {
        let placed = Placed { placement, since };
        self.host
            .games
            .lock()
            .unwrap()
            .insert(game_id.to_owned(), placed);
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// Placed long enough ago that a heartbeat is due.
fn settled() -> Instant {
    Instant::now().checked_sub(HEARTBEAT_TTL * 2).unwrap()
}

#[tokio::test]
async fn a_sweep_renews_every_game_and_restarts_exactly_those_whose_heartbeat_lapsed() {
    let running = start(Workers::InProcess).await;
    let (host, bus) = (&running.host, &running.bus);
    // More games than one batched request carries; every seventh has no heartbeat,
    // and the last few were placed too recently to have one yet.
    let n = guildhall_bus::MANY_CHUNK * 2 + 50;
    let fresh = n - 5;
    let mut stops = Vec::new();
    for i in 0..n {
        let game_id = format!("g{i}");
        // A task's stop token: cancelled when the sweep restarts the game.
        let stop = CancellationToken::new();
        let since = if i < fresh { settled() } else { Instant::now() };
        running.hold(&game_id, Placement::Task(stop.clone()), since);
        stops.push(stop);
        if i % 7 != 0 && i < fresh {
            bus.set(&heartbeat_key(&game_id), b"1", Some(HEARTBEAT_TTL))
                .await
                .unwrap();
        }
    }
    host.sweep().await;
    for (i, stop) in stops.iter().enumerate() {
        let lapsed = i % 7 == 0 && i < fresh;
        assert_eq!(
            stop.is_cancelled(),
            lapsed,
            "game g{i}: restarted iff lapsed"
        );
        if !lapsed {
            // (A restarted game's new worker finds no such table and lets it go,
            // owner key included, so only the others are read.)
            assert_eq!(
                bus.get(&owner_key(&format!("g{i}")))
                    .await
                    .unwrap()
                    .as_deref(),
                Some(host.id.as_bytes()),
                "game g{i} renewed as this host's"
            );
        }
    }
    running.stop().await;
}

#[tokio::test]
async fn a_stuck_process_with_many_lapsed_games_is_restarted_once() {
    // Stand-in worker processes: each writes what it is told to `child.<its pid>`
    // and never beats (the shell stays, holding the output the host reads open).
    let dir = std::env::temp_dir().join(format!("gh-host-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let workers = Workers::Processes {
        count: 1,
        program: "sh".into(),
        args: vec![
            "-c".into(),
            r#"cat > "$0.$$""#.into(),
            dir.join("child").display().to_string(),
        ],
        bus_url: "memory://".into(),
        key_prefix: String::new(),
        telemetry: serde_json::Value::Null,
    };
    let running = start(workers).await;
    let host = &running.host;
    let pid = || host.slots[0].pid.load(Ordering::Relaxed);
    let restarts = || host.slots[0].restarts.load(Ordering::Relaxed);
    let wait = Duration::from_secs(10);
    let first = guildhall_testkit::eventually("the process to start", wait, || async {
        (pid() != 0).then(pid)
    })
    .await;
    for i in 0..6 {
        running.hold(&format!("stuck{i}"), Placement::Slot(0), settled());
    }
    // Six lapsed games, one process: the sweep asks for six restarts. A command
    // queued behind them shows which process the queue reaches: the one started
    // after the first restart, unless the five other asks each killed another.
    host.sweep().await;
    host.slots[0]
        .orders
        .send(Order::Pass(Command::Stop("marker".into())))
        .unwrap();
    let told = guildhall_testkit::eventually("a process to be told the marker", wait, || {
        let dir = dir.clone();
        async move {
            std::fs::read_dir(&dir).unwrap().find_map(|entry| {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                text.contains("marker")
                    .then(|| path.extension().unwrap().to_owned())
            })
        }
    })
    .await;
    let told: u32 = told.to_str().unwrap().parse().unwrap();
    assert_ne!(told, first, "the stuck process was restarted");
    assert_eq!(
        (told, restarts()),
        (pid(), 1),
        "the process after one restart heard the marker, and is the one running"
    );
    running.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
