/* msim-color-scheme.h: follow the desktop's light or dark preference.
 *
 * GTK 4.8 does not read the freedesktop colour-scheme setting by itself
 * (libadwaita does; mailsim does not depend on it).  This reads
 * org.freedesktop.appearance color-scheme from the settings portal, and
 * follows its changes, by setting gtk-application-prefer-dark-theme.
 * Without a portal nothing changes: the GTK settings decide.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void msim_color_scheme_follow_desktop (void);

G_END_DECLS
