package dev.weir.handler;

import dev.weir.groups.GroupAdministration;
import dev.weir.groups.GroupCoordinator;
import dev.weir.groups.OffsetCoordinator;

/** The group coordinator's parts, as the group handlers use them. */
public record GroupHandlers(GroupCoordinator classic, OffsetCoordinator offsets, GroupAdministration administration) {
}
