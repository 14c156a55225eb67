-- Message templates for the mail PLC sends (PLCAPI's messages table, seeded
-- with the original's templates from db-config.d/060-messages). Templates use
-- Python's %(name)s / %(name)d placeholders, as the original does.

CREATE TABLE messages (
  message_id text PRIMARY KEY,
  subject text,
  template text,
  enabled boolean NOT NULL DEFAULT true
);

INSERT INTO messages (message_id, subject, template) VALUES
  ($m$Verify account$m$,
   $m$Verify account registration$m$,
   $m$
Please verify that you registered for a %(PLC_NAME)s account with the
username %(email)s by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/persons/register.php?id=%(person_id)d&key=%(verification_key)s

You must wait for this account to be approved before you can begin using it, please be patient.

If you did not register for a %(PLC_NAME)s account, please ignore this
message, or contact %(PLC_NAME)s Support <%(PLC_MAIL_SUPPORT_ADDRESS)s>.
$m$),
  ($m$New PI account$m$,
   $m$New PI account registration from %(first_name)s %(last_name)s <%(email)s> at %(site_name)s$m$,
   $m$
%(first_name)s %(last_name)s <%(email)s> has signed up for a new
%(PLC_NAME)s account at %(site_name)s and has requested a PI role. PIs
are responsible for enabling user accounts, creating slices, and
ensuring that all users abide by the %(PLC_NAME)s Acceptable Use
Policy.

Only %(PLC_NAME)s administrators may enable new PI accounts. If you
are a PI at %(site_name)s, please respond and indicate whether this
registration is acceptable.

To view the request, visit:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/persons/index.php?id=%(person_id)d
$m$),
  ($m$New account$m$,
   $m$New account registration from %(first_name)s %(last_name)s <%(email)s> at %(site_name)s$m$,
   $m$
%(first_name)s %(last_name)s <%(email)s> has signed up for a new
%(PLC_NAME)s account at %(site_name)s and has requested the following
roles: %(roles)s.

To deny the request or enable the account, visit:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/persons/index.php?id=%(person_id)d
$m$),
  ($m$Password reset requested$m$,
   $m$Password reset requested$m$,
   $m$
Someone has requested that the password of your %(PLC_NAME)s account
%(email)s be reset. If this person was you, you may continue with the
reset by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/persons/reset_password.php?id=%(person_id)d&key=%(verification_key)s

If you did not request that your password be reset, please contact
%(PLC_NAME)s Support <%(PLC_MAIL_SUPPORT_ADDRESS)s>. Do not quote or
otherwise include any of this text in any correspondence.
$m$),
  ($m$Password reset$m$,
   $m$Password reset$m$,
   $m$
The password of your %(PLC_NAME)s account %(email)s has been
temporarily reset to:

%(password)s

Please change it at as soon as possible by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/persons/index.php?id=%(person_id)d

If you did not request that your password be reset, please contact
%(PLC_NAME)s Support <%(PLC_MAIL_SUPPORT_ADDRESS)s>. Do not quote or
otherwise include any of this text in any correspondence.
$m$),
  ($m$installfinished$m$,
   $m$%(hostname)s completed installation$m$,
   $m$
%(hostname)s just completed installation.

The node should be usable in a couple of minutes if installation was
successful.
$m$),
  ($m$insufficientdisk$m$,
   $m$%(hostname)s does not have sufficient disk space$m$,
   $m$
%(hostname)s failed to boot because it does not have sufficent disk
space, or because its disk controller was not recognized.

Please replace the current disk or disk controller or install
additional disks to meet the current hardware requirements.
Once the node meets these requirements, please reinitiate the install
by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

Update the BootState to 'Reinstall', then reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we may investigate the problem.
$m$),
  ($m$insufficientmemory$m$,
   $m$%(hostname)s does not have sufficient memory$m$,
   $m$
%(hostname)s failed to boot because it does not have sufficent
memory.

Please install additional memory to meet the current hardware
requirements.
Once the node meets these requirements, please reinitiate the install
by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

Update the BootState to 'Reinstall', then reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we may investigate the problem.
$m$),
  ($m$authfail$m$,
   $m$%(hostname)s failed to authenticate$m$,
   $m$
%(hostname)s failed to authenticate for the following reason:

%(fault)s

The most common reason for authentication failure is that the
authentication key stored in the node configuration file, does not
match the key on record. 

There are two possible steps to resolve the problem.

1. If you have used an All-in-one BootCD that includes the plnode.txt file,
    then please check your machine for any old boot media, either in the
    floppy drive, or on a USB stick.  It is likely that an old configuration
    is being used instead of the new configuration stored on the BootCD.
Or, 
2. If you are using Generic BootCD image, then regenerate the node 
    configuration file by visiting:

    https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

    Under 'Download', follow the 'Download plnode.txt file for %(hostname)s'
    option, and save the downloaded file as plnode.txt on either a floppy 
    disk or a USB flash drive.  Be sure the 'Boot State' is set to 'Boot', 
    and, then reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we can help investigate the problem.
$m$),
  ($m$notinstalled$m$,
   $m$%(hostname)s is not installed$m$,
   $m$
%(hostname)s failed to boot because it has either never been
installed, or the installation is corrupt.

Please check if the hard drive has failed, and replace it if so. After
doing so, visit:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

Change the 'Boot State' to 'Reinstall', and then reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we may investigate the problem.
$m$),
  ($m$missingkernel$m$,
   $m$%(hostname)s is missing its production kernel$m$,
   $m$
%(hostname)s failed to boot because the filesystem is missing its production
kernel.

No action is needed from you at this time; this message is merely
informational.

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

We will investigate the problem shortly.
$m$),
  ($m$filesystemcorrupted$m$,
   $m$%(hostname)s may have corrupt filesystem$m$,
   $m$
%(hostname)s failed to boot because the filesystem appears to be corrupted. 

No action is needed from you at this time; this message is merely
informational.

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

We will investigate the problem shortly.
$m$),
  ($m$mountfailed$m$,
   $m$%(hostname)s could not mount filesystem$m$,
   $m$
%(hostname)s failed to boot because the boot scripts could not mount the 
filesystem.

This could be for a number of reasons.  No action is needed from you at this
time; this message is merely informational.  

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

We will investigate the problem shortly.
$m$),
  ($m$hostnamenotresolve$m$,
   $m$%(hostname)s does not resolve$m$,
   $m$
%(hostname)s failed to boot because its hostname does not resolve, or
does resolve but does not match its configured IP address.

Please check the network settings for the node, especially its
hostname, IP address, and DNS servers, by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

Correct any errors, and change the 'Boot State' to 'Reinstall', and then
reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we may investigate the problem.
$m$),
  ($m$noconfig$m$,
   $m$%(hostname)s does not have a configuration file$m$,
   $m$
%(hostname)s failed to boot because it could not find a PlanetLab
configuration file. To create this file, visit:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

Click the Configuration File link, and save the downloaded file as
plnode.txt on either a floppy disk or a USB flash drive.  Change the 
'Boot State' to 'Reinstall', and then reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we may investigate the problem.
$m$),
  ($m$nodetectednetwork$m$,
   $m$%(hostname)s has unsupported network hardware$m$,
   $m$

%(hostname)s failed to boot because it has network hardware that is
unsupported by the current production kernel. If it has booted
successfully in the past, please try re-installing it by visiting:

https://%(PLC_WWW_HOST)s:%(PLC_WWW_SSL_PORT)d/db/nodes/?id=%(node_id)d

Change the 'Boot State' to 'Reinstall', and then reboot the node.

If you have already performed this step and are still receiving this
message, please reply so that we may investigate the problem.
$m$),
  ($m$Account enabled$m$,
   $m$%(PLC_NAME)s account enabled$m$,
   $m$Your %(PLC_NAME)s account has been enabled. Please visit %(PLC_WWW_HOST)s to access your account.
$m$),
  ($m$Account disabled$m$,
   $m$%(PLC_NAME)s account disabled$m$,
   $m$Your %(PLC_NAME)s account has been disabled. Please contact your PI or PlanetLab support for more information
$m$);
