//! The matchmaker's state and rules, without I/O: tickets, game servers, lobbies, and the
//! matching pass. Time comes in as milliseconds so tests drive it step by step.

use std::collections::{HashMap, HashSet};

use guildhall_config::ModeConfig;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a ticket is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Assigned,
    Cancelled,
    Expired,
}

/// Where an assigned player goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignment {
    pub lobby_id: Uuid,
    pub ws_url: String,
    pub join_token: String,
}

/// One player waiting for (or done waiting for) a match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: Uuid,
    pub user: Uuid,
    pub mode: String,
    /// The numeric `rating` property, if the client gave one.
    pub rating: Option<f64>,
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub status: Status,
    pub assignment: Option<Assignment>,
}

/// A game server as it registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub server_id: String,
    pub ws_url: String,
    /// Players it takes over all its lobbies.
    pub capacity: u32,
    pub version: String,
    pub modes: Vec<String>,
}

/// A registered server and when it last spoke.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Server {
    pub info: ServerInfo,
    pub last_seen_ms: i64,
}

/// A lobby the matchmaker placed players in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lobby {
    pub id: Uuid,
    pub server_id: String,
    pub mode: String,
    pub created_ms: i64,
    /// Players the server reported in the lobby at its last heartbeat.
    pub present: HashSet<Uuid>,
    /// Players sent here who may not have arrived yet, with when they were sent.
    pub reserved: HashMap<Uuid, i64>,
    /// Sum and count of the ratings of everyone placed here, for drop-in skill checks.
    pub rating_sum: f64,
    pub rated: u32,
    /// Whether its server has reported it (a lobby starts on the server at the first join).
    #[serde(default)]
    pub seen: bool,
}

impl Lobby {
    /// Players in the lobby or on their way.
    pub fn occupancy(&self) -> u32 {
        let arriving = self
            .reserved
            .keys()
            .filter(|user| !self.present.contains(user))
            .count();
        (self.present.len() + arriving) as u32
    }

    fn average_rating(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.rating_sum / self.rated as f64)
    }
}

/// One lobby's state as its server reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LobbyReport {
    pub lobby_id: Uuid,
    pub mode: String,
    pub players: Vec<Uuid>,
}

/// A decision of the matching pass: this ticket goes to this lobby on this server.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub ticket: Uuid,
    pub user: Uuid,
    pub mode: String,
    pub lobby: Uuid,
    pub server_id: String,
    pub ws_url: String,
}

/// Why a ticket could not be created.
#[derive(Debug, Clone, PartialEq)]
pub enum CreateError {
    UnknownMode,
    /// The user already has a queued ticket for this mode.
    AlreadyQueued(Uuid),
}

/// Everything that changed in one call, so the caller can persist it and wake waiters.
#[derive(Debug, Default)]
pub struct Changes {
    pub tickets: Vec<Uuid>,
    pub removed_tickets: Vec<Uuid>,
    pub lobbies: Vec<Uuid>,
    pub removed_lobbies: Vec<Uuid>,
    pub servers: Vec<String>,
    pub removed_servers: Vec<String>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.tickets.is_empty()
            && self.removed_tickets.is_empty()
            && self.lobbies.is_empty()
            && self.removed_lobbies.is_empty()
            && self.servers.is_empty()
            && self.removed_servers.is_empty()
    }
}

/// The timing rules the engine needs.
#[derive(Debug, Clone)]
pub struct Timing {
    pub server_timeout_ms: i64,
    /// A reservation lapses when the join token it came with has expired.
    pub reservation_ms: i64,
    pub finished_ticket_ms: i64,
}

/// All matchmaking state.
#[derive(Debug)]
pub struct Engine {
    modes: HashMap<String, ModeConfig>,
    timing: Timing,
    tickets: HashMap<Uuid, Ticket>,
    /// (user, mode) → the user's queued ticket.
    queued: HashMap<(Uuid, String), Uuid>,
    servers: HashMap<String, Server>,
    lobbies: HashMap<Uuid, Lobby>,
}

impl Engine {
    pub fn new(modes: &[ModeConfig], timing: Timing) -> Self {
        Self {
            modes: modes.iter().map(|m| (m.name.clone(), m.clone())).collect(),
            timing,
            tickets: HashMap::new(),
            queued: HashMap::new(),
            servers: HashMap::new(),
            lobbies: HashMap::new(),
        }
    }

    /// Restores state saved earlier (after a restart). Servers count as seen `now`, so a
    /// server that stopped while the matchmaker was down is evicted one timeout later.
    pub fn restore(
        &mut self,
        tickets: Vec<Ticket>,
        servers: Vec<Server>,
        lobbies: Vec<Lobby>,
        now: i64,
    ) {
        for ticket in tickets {
            if ticket.status == Status::Queued {
                self.queued
                    .insert((ticket.user, ticket.mode.clone()), ticket.id);
            }
            self.tickets.insert(ticket.id, ticket);
        }
        for mut server in servers {
            server.last_seen_ms = now;
            self.servers.insert(server.info.server_id.clone(), server);
        }
        for lobby in lobbies {
            if self.servers.contains_key(&lobby.server_id) {
                self.lobbies.insert(lobby.id, lobby);
            }
        }
    }

    pub fn modes(&self) -> impl Iterator<Item = &ModeConfig> {
        self.modes.values()
    }

    pub fn ticket(&self, id: Uuid) -> Option<&Ticket> {
        self.tickets.get(&id)
    }

    pub fn lobby(&self, id: Uuid) -> Option<&Lobby> {
        self.lobbies.get(&id)
    }

    pub fn server(&self, id: &str) -> Option<&Server> {
        self.servers.get(id)
    }

    pub fn servers(&self) -> impl Iterator<Item = &Server> {
        self.servers.values()
    }

    pub fn queued_count(&self) -> usize {
        self.queued.len()
    }

    pub fn lobby_count(&self) -> usize {
        self.lobbies.len()
    }

    pub fn create_ticket(
        &mut self,
        user: Uuid,
        mode: &str,
        properties: serde_json::Map<String, serde_json::Value>,
        now: i64,
    ) -> Result<Ticket, CreateError> {
        if !self.modes.contains_key(mode) {
            return Err(CreateError::UnknownMode);
        }
        if let Some(existing) = self.queued.get(&(user, mode.to_owned())) {
            return Err(CreateError::AlreadyQueued(*existing));
        }
        let rating = properties.get("rating").and_then(|v| v.as_f64());
        let ticket = Ticket {
            id: Uuid::now_v7(),
            user,
            mode: mode.to_owned(),
            rating,
            properties,
            created_ms: now,
            updated_ms: now,
            status: Status::Queued,
            assignment: None,
        };
        self.queued.insert((user, mode.to_owned()), ticket.id);
        self.tickets.insert(ticket.id, ticket.clone());
        Ok(ticket)
    }

    /// Cancels a queued ticket; other states are final and stay as they are.
    pub fn cancel(&mut self, id: Uuid, now: i64) -> Option<&Ticket> {
        let ticket = self.tickets.get_mut(&id)?;
        if ticket.status == Status::Queued {
            ticket.status = Status::Cancelled;
            ticket.updated_ms = now;
            self.queued.remove(&(ticket.user, ticket.mode.clone()));
        }
        Some(&*ticket)
    }

    /// Adds or refreshes a game server.
    pub fn register(&mut self, info: ServerInfo, now: i64) {
        self.servers.insert(
            info.server_id.clone(),
            Server {
                info,
                last_seen_ms: now,
            },
        );
    }

    /// A server's heartbeat: its lobbies and who is in them. `false` when the server is
    /// unknown (evicted, or the matchmaker lost it): it must register again.
    pub fn heartbeat(
        &mut self,
        server_id: &str,
        lobbies: &[LobbyReport],
        now: i64,
        changes: &mut Changes,
    ) -> bool {
        let Some(server) = self.servers.get_mut(server_id) else {
            return false;
        };
        server.last_seen_ms = now;
        let reported: HashMap<Uuid, &LobbyReport> =
            lobbies.iter().map(|l| (l.lobby_id, l)).collect();
        // Lobbies the server no longer has close, once nobody is still on the way.
        let mut closed = Vec::new();
        for lobby in self
            .lobbies
            .values_mut()
            .filter(|l| l.server_id == server_id)
        {
            match reported.get(&lobby.id) {
                Some(report) => {
                    lobby.seen = true;
                    lobby.present = report.players.iter().copied().collect();
                    let present = &lobby.present;
                    lobby.reserved.retain(|user, _| !present.contains(user));
                    changes.lobbies.push(lobby.id);
                }
                // Started and now gone from its server: closed for good, even if players
                // are still on their way (they will be refused and queue again).
                None if lobby.seen => closed.push(lobby.id),
                // Not started yet: it lives while someone is on the way.
                None => {
                    if lobby.reserved.is_empty() {
                        closed.push(lobby.id);
                    }
                }
            }
        }
        // Lobbies the server has that we do not know (a restart lost them): adopt them.
        for report in lobbies {
            if !self.lobbies.contains_key(&report.lobby_id) && self.modes.contains_key(&report.mode)
            {
                self.lobbies.insert(
                    report.lobby_id,
                    Lobby {
                        id: report.lobby_id,
                        server_id: server_id.to_owned(),
                        mode: report.mode.clone(),
                        created_ms: now,
                        present: report.players.iter().copied().collect(),
                        reserved: HashMap::new(),
                        rating_sum: 0.0,
                        rated: 0,
                        seen: true,
                    },
                );
                changes.lobbies.push(report.lobby_id);
            }
        }
        for id in closed {
            self.lobbies.remove(&id);
            changes.removed_lobbies.push(id);
        }
        changes.servers.push(server_id.to_owned());
        true
    }

    /// Expires old tickets, evicts silent servers, lapses stale reservations, forgets
    /// finished tickets, and places queued tickets. Returns the placements made; their
    /// tickets are `Assigned` without a token until [`Engine::complete`] or
    /// [`Engine::revert`].
    pub fn run(&mut self, now: i64, changes: &mut Changes) -> Vec<Placement> {
        self.housekeeping(now, changes);
        let mut placements = Vec::new();
        let mut modes: Vec<ModeConfig> = self.modes.values().cloned().collect();
        modes.sort_by(|a, b| a.name.cmp(&b.name));
        for mode in &modes {
            self.match_mode(mode, now, &mut placements);
        }
        for placement in &placements {
            changes.tickets.push(placement.ticket);
            changes.lobbies.push(placement.lobby);
        }
        placements
    }

    fn housekeeping(&mut self, now: i64, changes: &mut Changes) {
        let silent: Vec<String> = self
            .servers
            .values()
            .filter(|s| now - s.last_seen_ms > self.timing.server_timeout_ms)
            .map(|s| s.info.server_id.clone())
            .collect();
        for id in silent {
            self.servers.remove(&id);
            changes.removed_servers.push(id.clone());
            let gone: Vec<Uuid> = self
                .lobbies
                .values()
                .filter(|l| l.server_id == id)
                .map(|l| l.id)
                .collect();
            for lobby in gone {
                self.lobbies.remove(&lobby);
                changes.removed_lobbies.push(lobby);
            }
        }
        for lobby in self.lobbies.values_mut() {
            let before = lobby.reserved.len();
            lobby
                .reserved
                .retain(|_, at| now - *at <= self.timing.reservation_ms);
            if lobby.reserved.len() != before {
                changes.lobbies.push(lobby.id);
            }
        }
        let (timing, modes) = (&self.timing, &self.modes);
        let mut forget = Vec::new();
        for ticket in self.tickets.values_mut() {
            match ticket.status {
                Status::Queued => {
                    let max_wait = modes
                        .get(&ticket.mode)
                        .map_or(0, |m| m.max_wait_secs as i64 * 1000);
                    if now - ticket.created_ms > max_wait {
                        ticket.status = Status::Expired;
                        ticket.updated_ms = now;
                        self.queued.remove(&(ticket.user, ticket.mode.clone()));
                        changes.tickets.push(ticket.id);
                    }
                }
                // An assignment still waiting for its token is not finished.
                Status::Assigned if ticket.assignment.is_none() => {}
                _ => {
                    if now - ticket.updated_ms > timing.finished_ticket_ms {
                        forget.push(ticket.id);
                    }
                }
            }
        }
        for id in forget {
            self.tickets.remove(&id);
            changes.removed_tickets.push(id);
        }
    }

    fn window(mode: &ModeConfig, waited_ms: i64) -> f64 {
        mode.skill_window + mode.skill_window_growth_per_sec * (waited_ms.max(0) as f64 / 1000.0)
    }

    fn match_mode(&mut self, mode: &ModeConfig, now: i64, placements: &mut Vec<Placement>) {
        let mut waiting: Vec<(i64, Uuid)> = self
            .queued
            .iter()
            .filter(|((_, m), _)| *m == mode.name)
            .filter_map(|(_, id)| self.tickets.get(id).map(|t| (t.created_ms, t.id)))
            .collect();
        if waiting.is_empty() {
            return;
        }
        waiting.sort();
        let mut waiting: Vec<Uuid> = waiting.into_iter().map(|(_, id)| id).collect();

        if mode.drop_in {
            waiting.retain(|id| {
                let ticket = &self.tickets[id];
                let window = Self::window(mode, now - ticket.created_ms);
                let rating = ticket.rating;
                // The fullest compatible lobby with room, on a live server that has room.
                let best = self
                    .lobbies
                    .values()
                    .filter(|l| l.mode == mode.name && l.occupancy() < mode.max_players)
                    .filter(|l| {
                        !l.present.contains(&ticket.user) && !l.reserved.contains_key(&ticket.user)
                    })
                    .filter(|l| match (rating, l.average_rating()) {
                        (Some(r), Some(avg)) => (r - avg).abs() <= window,
                        _ => true,
                    })
                    .filter(|l| self.server_room(&l.server_id) >= 1)
                    .max_by_key(|l| (l.occupancy(), std::cmp::Reverse(l.id)))
                    .map(|l| l.id);
                match best {
                    Some(lobby) => {
                        let placement = self.place(*id, lobby, now);
                        placements.push(placement);
                        false
                    }
                    None => true,
                }
            });
        }

        // New lobbies: the oldest ticket anchors a group of the nearest ratings in its window.
        let mut index = 0;
        while index < waiting.len() {
            let anchor = &self.tickets[&waiting[index]];
            if waiting.len() - index < mode.min_players as usize {
                break;
            }
            let window = Self::window(mode, now - anchor.created_ms);
            let anchor_rating = anchor.rating;
            let distance = |t: &Ticket| match (anchor_rating, t.rating) {
                (Some(a), Some(r)) => (a - r).abs(),
                _ => 0.0,
            };
            let mut group: Vec<(f64, usize)> = (index..waiting.len())
                .map(|i| (distance(&self.tickets[&waiting[i]]), i))
                .filter(|(d, _)| *d <= window)
                .collect();
            group.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            group.truncate(mode.max_players as usize);
            if group.len() < mode.min_players as usize {
                index += 1;
                continue;
            }
            let Some(server) = self.pick_server(&mode.name, group.len() as u32) else {
                // No room anywhere: everyone waits for a server.
                return;
            };
            let lobby = Lobby {
                id: Uuid::new_v4(),
                server_id: server,
                mode: mode.name.clone(),
                created_ms: now,
                present: HashSet::new(),
                reserved: HashMap::new(),
                rating_sum: 0.0,
                rated: 0,
                seen: false,
            };
            let lobby_id = lobby.id;
            self.lobbies.insert(lobby_id, lobby);
            let mut taken: Vec<usize> = group.iter().map(|(_, i)| *i).collect();
            taken.sort_unstable();
            for &i in &taken {
                let placement = self.place(waiting[i], lobby_id, now);
                placements.push(placement);
            }
            for &i in taken.iter().rev() {
                waiting.remove(i);
            }
        }
    }

    /// Free player slots on a live server.
    fn server_room(&self, server_id: &str) -> u32 {
        let Some(server) = self.servers.get(server_id) else {
            return 0;
        };
        let used: u32 = self
            .lobbies
            .values()
            .filter(|l| l.server_id == server_id)
            .map(Lobby::occupancy)
            .sum();
        server.info.capacity.saturating_sub(used)
    }

    /// The least loaded live server hosting `mode` with room for `players`.
    fn pick_server(&self, mode: &str, players: u32) -> Option<String> {
        self.servers
            .values()
            .filter(|s| s.info.modes.iter().any(|m| m == mode))
            .filter_map(|s| {
                let room = self.server_room(&s.info.server_id);
                (room >= players).then(|| {
                    let load = 1.0 - room as f64 / s.info.capacity.max(1) as f64;
                    (load, s.info.server_id.clone())
                })
            })
            .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, id)| id)
    }

    fn place(&mut self, ticket_id: Uuid, lobby_id: Uuid, now: i64) -> Placement {
        let ticket = self
            .tickets
            .get_mut(&ticket_id)
            .expect("placing a known ticket");
        ticket.status = Status::Assigned;
        ticket.updated_ms = now;
        self.queued.remove(&(ticket.user, ticket.mode.clone()));
        let lobby = self
            .lobbies
            .get_mut(&lobby_id)
            .expect("placing in a known lobby");
        lobby.reserved.insert(ticket.user, now);
        if let Some(rating) = ticket.rating {
            lobby.rating_sum += rating;
            lobby.rated += 1;
        }
        let ws_url = self
            .servers
            .get(&lobby.server_id)
            .map(|s| s.info.ws_url.clone())
            .unwrap_or_default();
        Placement {
            ticket: ticket_id,
            user: ticket.user,
            mode: ticket.mode.clone(),
            lobby: lobby_id,
            server_id: lobby.server_id.clone(),
            ws_url,
        }
    }

    /// Records the signed join token of a placement.
    pub fn complete(&mut self, placement: &Placement, join_token: String, now: i64) {
        if let Some(ticket) = self.tickets.get_mut(&placement.ticket) {
            ticket.assignment = Some(Assignment {
                lobby_id: placement.lobby,
                ws_url: placement.ws_url.clone(),
                join_token,
            });
            ticket.updated_ms = now;
        }
    }

    /// Puts a placement back in the queue (its token could not be signed).
    pub fn revert(&mut self, placement: &Placement, changes: &mut Changes) {
        if let Some(ticket) = self.tickets.get_mut(&placement.ticket) {
            ticket.status = Status::Queued;
            ticket.assignment = None;
            self.queued
                .insert((ticket.user, ticket.mode.clone()), ticket.id);
            changes.tickets.push(ticket.id);
        }
        if let Some(lobby) = self.lobbies.get_mut(&placement.lobby) {
            lobby.reserved.remove(&placement.user);
            if lobby.reserved.is_empty() && lobby.present.is_empty() {
                self.lobbies.remove(&placement.lobby);
                changes.removed_lobbies.push(placement.lobby);
            } else {
                changes.lobbies.push(placement.lobby);
            }
        }
    }
}

#[cfg(test)]
mod tests;
