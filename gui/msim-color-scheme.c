/* msim-color-scheme.c: the settings portal's color-scheme, applied to GTK. */
#include "msim-color-scheme.h"

#define PORTAL_NAME "org.freedesktop.portal.Desktop"
#define PORTAL_PATH "/org/freedesktop/portal/desktop"
#define PORTAL_SETTINGS "org.freedesktop.portal.Settings"

/* The portal's values: 0 no preference, 1 prefer dark, 2 prefer light. */
enum
{
  SCHEME_PREFER_DARK = 1,
};

static void
apply (GVariant *value)
{
  GtkSettings *settings = gtk_settings_get_default ();

  g_autoptr (GVariant) inner = value != NULL ? g_variant_ref (value) : NULL;

  /* Read returns the value wrapped in one or two variants, by version. */
  while (inner != NULL && g_variant_is_of_type (inner, G_VARIANT_TYPE_VARIANT))
    {
      GVariant *next = g_variant_get_variant (inner);
      g_variant_unref (inner);
      inner = next;
    }
  if (inner == NULL || settings == NULL || !g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT32))
    return;
  g_object_set (settings, "gtk-application-prefer-dark-theme", g_variant_get_uint32 (inner) == SCHEME_PREFER_DARK, NULL);
}

static void
on_setting_changed (GDBusProxy *proxy, const char *sender, const char *signal, GVariant *parameters, gpointer user_data)
{
  const char *namespace, *key;
  g_autoptr (GVariant) value = NULL;

  if (g_strcmp0 (signal, "SettingChanged") != 0)
    return;
  g_variant_get (parameters, "(&s&sv)", &namespace, &key, &value);
  if (g_str_equal (namespace, "org.freedesktop.appearance") && g_str_equal (key, "color-scheme"))
    apply (value);
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GVariant) reply = g_dbus_proxy_call_finish (G_DBUS_PROXY (source), result, NULL);
  g_autoptr (GVariant) value = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(v)", &value);
  apply (value);
}

static void
on_proxy (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GDBusProxy *proxy = g_dbus_proxy_new_for_bus_finish (result, NULL);

  if (proxy == NULL)
    return;
  /* The proxy lives as long as the application: it carries the signal. */
  g_signal_connect (proxy, "g-signal", G_CALLBACK (on_setting_changed), NULL);
  g_dbus_proxy_call (proxy, "Read", g_variant_new ("(ss)", "org.freedesktop.appearance", "color-scheme"),
                     G_DBUS_CALL_FLAGS_NONE, 2000, NULL, on_read, NULL);
}

void
msim_color_scheme_follow_desktop (void)
{
  g_dbus_proxy_new_for_bus (G_BUS_TYPE_SESSION,
                            G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START_AT_CONSTRUCTION,
                            NULL, PORTAL_NAME, PORTAL_PATH, PORTAL_SETTINGS, NULL, on_proxy, NULL);
}
